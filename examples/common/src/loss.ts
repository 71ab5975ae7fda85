import type { Tensor } from '@neurone/core';

/**
 * The value of a training step's loss, whether the step returned a number or a one-element
 * tensor (read asynchronously, so it works on every backend, then disposed).
 */
export async function lossValue(loss: number | Tensor): Promise<number> {
  if (typeof loss === 'number') return loss;
  const v = (await loss.data())[0]!;
  loss.dispose();
  return v;
}
