import { ShapeError, checkLeaks, tidy } from '@neurone/core';
import type { Loss, Module, Optimizer, Tensor } from '@neurone/core';

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
    this.net = net;
    this.loss = loss;
    this.optimizer = optimizer;
  }

  /**
   * One step; returns the batch loss, still on the device (the caller reads and disposes it).
   * With `backend.debugLeaks` set, warns when live tensors grow step after step (`checkLeaks`).
   */
  step(x: Tensor, y: Tensor): Tensor {
    const l = trainStep(this.net, this.loss, this.optimizer, x, y)[0]!;
    checkLeaks(l.backend);
    return l;
  }
}
