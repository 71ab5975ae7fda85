import { Module, ValueError, checkOptions, getBackend, tidy } from '@neurone/core';
import type { Backend, Shape, Tensor } from '@neurone/core';

/** One module of a `summary`: its dotted name, class, output shape and own state. */
export interface SummaryRow {
  /** Dotted name ('' for the model itself). */
  name: string;
  type: string;
  depth: number;
  /** The shape of its output for the summary's input (null when its forward did not run). */
  outputShape: Shape | null;
  /** Elements of its own parameters (shared ones counted where first listed), trainable and frozen. */
  trainable: number;
  frozen: number;
  /** Elements of its own buffers. */
  buffers: number;
}

/** What `summary` returns: one row per module, the totals, and the table as `toString()`. */
export interface ModelSummary {
  rows: SummaryRow[];
  inputShape: Shape;
  trainableParams: number;
  frozenParams: number;
  totalParams: number;
  bufferElements: number;
  /** Bytes of the parameters and buffers on the backend (4 or 8 per element). */
  bytes: number;
  toString(): string;
}

const owner = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf('.')));

/**
 * The table a user pastes into an issue: every module (depth-first, PyTorch's `named_modules`
 * order) with its output shape for one forward of zeros shaped `inputShape` (eval mode, nothing
 * trained or saved; the mode is restored), its trainable and frozen (`requiresGrad = false`)
 * parameter counts and buffers, and the totals with their bytes.
 */
export function summary(model: Module, inputShape: readonly number[], options: { backend?: Backend } = {}): ModelSummary {
  if (!(model instanceof Module)) throw new ValueError(`summary(model, inputShape): model must be a Module, got ${String(model)}`);
  if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ValueError(`summary(model, inputShape): inputShape must be an array of positive integers (batch first), got ${String(inputShape)}`);
  }
  checkOptions('summary', options ?? undefined, { backend: 'object' });
  const backend = options?.backend ?? model.parameters()[0]?.backend ?? getBackend();
  const modules = model.namedModules();
  const rows = new Map<string, SummaryRow>(modules.map(([name, m]) => [name, { name, type: m.constructor.name, depth: name ? name.split('.').length : 0, outputShape: null, trainable: 0, frozen: 0, buffers: 0 }]));
  for (const [n, p] of model.namedParameters()) {
    const r = rows.get(owner(n))!;
    if (p.requiresGrad) r.trainable += p.value.size;
    else r.frozen += p.value.size;
  }
  for (const [n, t] of model.namedBuffers()) rows.get(owner(n))!.buffers += t.size;
  // record each module's output shape: its forward wrapped on the instance for one call
  const wasTraining = model.training;
  const wrapped = modules.map(([name, m]) => {
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const original = m.forward;
    m.forward = (x: Tensor): Tensor => {
      const y = original.call(m, x);
      rows.get(name)!.outputShape = [...y.shape];
      return y;
    };
    return () => (own ? (m.forward = original) : delete (m as { forward?: unknown }).forward);
  });
  model.eval();
  try {
    tidy(() => {
      model.forward(backend.zeros([...inputShape]));
    });
  } finally {
    wrapped.forEach((restore) => restore());
    model.train(wasTraining);
    model.clearSaved();
  }
  const list = [...rows.values()];
  const sum = (k: 'trainable' | 'frozen' | 'buffers'): number => list.reduce((a, r) => a + r[k], 0);
  const [trainableParams, frozenParams, bufferElements] = [sum('trainable'), sum('frozen'), sum('buffers')];
  const bytes = (trainableParams + frozenParams + bufferElements) * (backend.dtype === 'float64' ? 8 : 4);
  return {
    rows: list,
    inputShape: [...inputShape],
    trainableParams,
    frozenParams,
    totalParams: trainableParams + frozenParams,
    bufferElements,
    bytes,
    toString: () => table(list, inputShape, { trainableParams, frozenParams, bufferElements, bytes }),
  };
}

function table(rows: SummaryRow[], input: readonly number[], t: { trainableParams: number; frozenParams: number; bufferElements: number; bytes: number }): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const cells = rows.map((r) => [`${'  '.repeat(r.depth)}${r.name ? `${r.name} ` : ''}(${r.type})`, r.outputShape ? `[${r.outputShape.join(', ')}]` : '—', fmt(r.trainable + r.frozen), r.frozen ? fmt(r.frozen) : '', r.buffers ? fmt(r.buffers) : '']);
  const head = ['Layer (type)', 'Output shape', 'Params', 'Frozen', 'Buffers'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const rule = '─'.repeat(line(head).length);
  return [
    `Input shape: [${input.join(', ')}]`,
    rule,
    line(head),
    rule,
    ...cells.map(line),
    rule,
    `Params: ${fmt(t.trainableParams + t.frozenParams)} (trainable ${fmt(t.trainableParams)}, frozen ${fmt(t.frozenParams)}); buffers: ${fmt(t.bufferElements)} values; size: ${(t.bytes / 1024).toFixed(1)} KiB (${fmt(t.bytes)} bytes)`,
  ].join('\n');
}
