import { ShapeError, Tensor, ValueError, checkLeaks, tidy } from '@neurone/core';
import type { Loss, Module, Optimizer } from '@neurone/core';

/** A net with a whole-network backward (Sequential): it can skip the first layer's input gradient. */
interface WholeBackward {
  backward(delta: Tensor, options: { inputGrad?: boolean }): unknown;
}

function hasWholeBackward(net: Module): net is Module & WholeBackward {
  return typeof (net as Partial<WholeBackward>).backward === 'function';
}

/** A per-batch metric on the device: returns a one-element tensor, the batch mean. */
export type MetricFn = (y: Tensor, yhat: Tensor) => Tensor;

/**
 * One training step, all inside `tidy`: zeroGrad, forward, loss, backward, optimizer step.
 * Returns the loss tensor (and the metric tensors), which the caller reads and disposes.
 * @internal shared by Optim and fit.
 */
export function trainStep(
  net: Module,
  loss: Loss,
  optimizer: Optimizer,
  x: Tensor,
  y: Tensor,
  metrics: readonly MetricFn[] = [],
  onForward?: (yhat: Tensor) => void,
  beforeStep?: () => void,
): Tensor[] {
  return tidy(() => {
    net.zeroGrad();
    optimizer.zeroGrad();
    const yhat = net.forward(x);
    onForward?.(yhat);
    const l = loss.forward(y, yhat);
    if (l.size !== 1) throw new ShapeError('Optim.step', 'the loss must reduce to one value', { loss: l.shape, y: y.shape, yhat: yhat.shape });
    const m = metrics.map((f) => f(y, yhat));
    const delta = loss.backward(y, yhat); // seed: δ = ∂L/∂ŷ
    if (hasWholeBackward(net)) net.backward(delta, { inputGrad: false });
    else net.backwardUpdateGradient(x, delta);
    beforeStep?.(); // gradient clipping
    optimizer.step();
    return [l, ...m];
  });
}

/**
 * The course's training helper: `new Optim(net, loss, optimizer).step(x, y)` runs one
 * mini-batch step (zeroGrad, forward, loss.forward, loss.backward, backward of the net,
 * optimizer.step) and returns the loss as a one-element tensor, without reading the device:
 * read it when you need the number (`loss.item()`, or `await loss.data()` on any backend) and
 * dispose it (or step inside `tidy`). Every temporary is freed; only the parameters and the
 * optimizer state survive a step.
 */
export class Optim {
  readonly net: Module;
  readonly loss: Loss;
  readonly optimizer: Optimizer;

  constructor(net: Module, loss: Loss, optimizer: Optimizer) {
    const bad = [
      ['net', net, 'forward'],
      ['loss', loss, 'backward'],
      ['optimizer', optimizer, 'step'],
    ].find(([, v, m]) => typeof (v as unknown as Record<string, unknown> | null)?.[m as string] !== 'function');
    if (bad) throw new ValueError(`Optim(net, loss, optimizer): ${bad[0] as string} has no ${bad[2] as string}() method, got ${String(bad[1])}`);
    this.net = net;
    this.loss = loss;
    this.optimizer = optimizer;
  }

  /**
   * One step; returns the batch loss, still on the device (the caller reads and disposes it).
   * With `backend.debugLeaks` set, warns when live tensors grow step after step (`checkLeaks`).
   */
  step(x: Tensor, y: Tensor): Tensor {
    if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new ValueError(`Optim.step(x, y): x and y must be tensors, got ${String(x)} and ${String(y)}`);
    const l = trainStep(this.net, this.loss, this.optimizer, x, y)[0]!;
    checkLeaks(l.backend);
    return l;
  }
}
