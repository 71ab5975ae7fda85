import { ShapeError } from './errors';
import type { Shape } from './shape';
import { shapesEqual } from './shape';
import type { BinaryOp } from './kernels';
import type { Tensor } from './tensor';

/**
 * The tape behind derived backward (issue 17). While a gradient is needed — the forward of a
 * module in training mode whose backward is derived, or `grad(f)` — every differentiable op
 * records one node: its inputs, its output and its vjp (the gradients of its inputs given the
 * gradient of its output, computed with the same ops, so on every backend). Ops that compose
 * others record one node and nothing inside. Nothing is recorded otherwise.
 */

/** The leaves a backward pass differentiates for: the input (backwardDelta, grad) or the parameters. */
export const INPUT = 1;
export const PARAMS = 2;

/** Gradients of a node's inputs from g = ∂L/∂out; `need[i]` says whether input i wants one. */
export type Vjp = (g: Tensor, out: Tensor, need: readonly boolean[], mode: number) => readonly (Tensor | null | undefined)[];

interface Node {
  inputs: readonly (Tensor | undefined)[];
  out: Tensor;
  vjp: Vjp;
  flags: number;
}

/** One recording: its nodes in order, and which leaves (INPUT, PARAMS) each recorded tensor depends on. */
export class Tape {
  readonly nodes: Node[] = [];
  readonly flags = new Map<Tensor | undefined, number>();
  /** Every tensor a node refers to: an inner `tidy` hands them to its parent scope instead of freeing them. */
  readonly held = new Set<Tensor>();

  flagsOf(inputs: readonly (Tensor | undefined)[]): number {
    let f = 0;
    for (const t of inputs) f |= this.flags.get(t) ?? 0;
    return f;
  }

  /** Records out = op(inputs) when an input depends on a leaf (or `own`: a child module's parameters). */
  push(inputs: readonly (Tensor | undefined)[], out: Tensor, vjp: Vjp, own = 0): void {
    const flags = this.flagsOf(inputs) | own;
    if (!flags) return;
    this.nodes.push({ inputs, out, vjp, flags });
    this.flags.set(out, flags);
    for (const t of inputs) if (t) this.held.add(t);
    this.held.add(out);
  }
}

let tape: Tape | null = null;
let enabled = true;

/** @internal The tape recording now, or null. */
export function recording(): Tape | null {
  return tape;
}

/** @internal Whether a module's forward may start a recording (false inside `noGrad`). */
export function gradEnabled(): boolean {
  return enabled;
}

/** @internal Runs fn with `t` recording (null: nothing recorded), then restores the previous tape. */
export function withTape<T>(t: Tape | null, fn: () => T): T {
  const prev = tape;
  tape = t;
  try {
    return fn();
  } finally {
    tape = prev;
  }
}

/**
 * Runs fn without recording anything: no tape, and no module forward starts one (PyTorch's
 * `torch.no_grad()`). Inference, metrics and weight updates need no gradient.
 */
export function noGrad<T>(fn: () => T): T {
  const was = enabled;
  enabled = false;
  try {
    return withTape(null, fn);
  } finally {
    enabled = was;
  }
}

/**
 * @internal A differentiable op: computes `compute()` (with recording paused inside, so a
 * composite op is one node) and, while a tape records and an input depends on a leaf, records
 * it with its `vjp`.
 */
export function differentiable(inputs: readonly (Tensor | undefined)[], compute: () => Tensor, vjp: Vjp): Tensor {
  const t = tape;
  if (t === null || !t.flagsOf(inputs)) return compute();
  tape = null;
  let out: Tensor;
  try {
    out = compute();
  } finally {
    tape = t;
  }
  t.push(inputs, out, vjp);
  return out;
}

/**
 * @internal Runs the tape backward from `out` with ∂L/∂out = `g`, through the nodes that depend
 * on a leaf of `mode`; returns the gradient of every tensor it reached. Call with no tape recording.
 */
export function backprop(t: Tape, out: Tensor, g: Tensor, mode: number): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>([[out, g]]);
  for (let i = t.nodes.length - 1; i >= 0; i--) {
    const n = t.nodes[i]!;
    const gy = grads.get(n.out);
    if (!gy || !(n.flags & mode)) continue;
    const need = n.inputs.map((x) => ((t.flags.get(x) ?? 0) & mode) !== 0);
    const gs = n.vjp(gy, n.out, need, mode);
    n.inputs.forEach((x, j) => {
      const gx = gs[j];
      if (!x || !need[j] || !gx) return;
      if (!shapesEqual(gx.shape, x.shape)) throw new ShapeError('backward', 'a vjp gave a gradient of another shape than its input', { input: x.shape, grad: gx.shape });
      const prev = grads.get(x);
      grads.set(x, prev ? prev.add(gx) : gx);
    });
  }
  return grads;
}

/** The gradient of a broadcast operand: g summed over the axes broadcasting added or stretched. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const pad = g.rank - shape.length;
  const axes = g.shape.map((_, i) => i).filter((i) => i < pad || (shape[i - pad] === 1 && g.shape[i] !== 1));
  return g.sum(axes, true).reshape(shape);
}

/** Gradients of a (broadcasting) binary op's operands, each reduced to its operand's shape. */
export function binaryVjp(op: BinaryOp, a: Tensor, b: Tensor, y: Tensor, g: Tensor, need: readonly boolean[]): (Tensor | null)[] {
  const B = g.backend;
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (op === 'add' || op === 'sub') [ga, gb] = [g, op === 'add' ? g : g.neg()];
  else if (op === 'mul') [ga, gb] = [need[0] ? g.mul(b) : null, need[1] ? g.mul(a) : null];
  else if (op === 'div') [ga, gb] = [need[0] ? g.div(b) : null, need[1] ? g.mul(y).div(b).neg() : null]; // ∂(a/b)/∂b = −y/b
  else if (op === 'pow') {
    ga = need[0] ? g.mul(b).mul(a.pow(b.sub(1))) : null; // b·a^(b−1)
    gb = need[1] ? g.mul(y).mul(a.log()) : null; // y·ln a
  } else {
    // maximum (minimum): the gradient goes to a where a > b (a < b), else to b
    ga = B.activationGrad('relu', op === 'maximum' ? a.sub(b) : b.sub(a), g);
    gb = g.sub(ga);
  }
  return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
}

/** ∂/∂x of softmax (log-softmax) along `dim`, from its output y: y ⊙ (g − Σ g⊙y), or g − eʸ ⊙ Σ g. */
export function softmaxVjp(op: 'softmax' | 'logSoftmax', y: Tensor, g: Tensor, dim: number): Tensor {
  return op === 'softmax' ? y.mul(g.sub(g.mul(y).sum(dim, true))) : g.sub(y.exp().mul(g.sum(dim, true)));
}
