import type { Tensor } from '@neurone/core';

/**
 * The value of a training step's loss (`Optim.step` returns a one-element tensor): read
 * asynchronously, so it works on every backend, then disposed.
 */
export async function lossValue(loss: Tensor): Promise<number> {
  const v = (await loss.data())[0]!;
  loss.dispose();
  return v;
}
