import { ValueError } from './errors';

/**
 * Checks class labels where they enter, on the host: each value an integer in [0, classes).
 * Library code never reads labels back from a device to check them (`fit`, `@neurone/data` and
 * users call this on host values), so a bad label gives the same ValueError on every backend.
 * A label equal to `ignoreIndex` (CrossEntropyLoss's, PyTorch's −100) passes.
 */
export function checkClassIndices(owner: string, labels: ArrayLike<number>, classes: number, ignoreIndex?: number): void {
  if (!Number.isInteger(classes) || classes < 1) throw new ValueError(`${owner}: the number of classes must be a positive integer, got ${String(classes)}`);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c === ignoreIndex) continue;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new ValueError(`${owner}: label ${c} at position ${i} is not an integer class index in [0, ${classes}) (K = ${classes} classes)`);
    }
  }
}
