import { NeuroneError, ShapeError, ValueError } from './errors';
import { INPUT, Tape, backprop, withTape } from './autograd';
import { tidy } from './scope';
import type { Tensor } from './tensor';
import { isTensor } from './is-tensor';

/** Which arguments `grad` differentiates: one index (its gradient alone) or several (an array). */
export interface GradOptions<N extends number | readonly number[]> {
  /** Argument index or indices (default 0), as jax's `argnums`. */
  argnums?: N;
}

type Grads<N> = N extends number ? Tensor : Tensor[];

/**
 * `valueAndGrad(f)(...args)` → [f(...args), ∂f/∂args[argnums]] for f of tensors (and anything
 * else) returning a one-element tensor (jax's `value_and_grad`, `torch.func`). f's ops are
 * recorded, then gone back through with the same ops; every temporary is freed, the value and
 * the gradients are the caller's. Module forwards inside f record too (a module with its own
 * backward as one node); parameters are constants here (train a module with its backward).
 */
export function valueAndGrad<A extends unknown[], N extends number | readonly number[] = 0>(f: (...args: A) => Tensor, options: GradOptions<N> = {}): (...args: A) => [Tensor, Grads<N>] {
  if (typeof f !== 'function') throw new ValueError(`grad: f must be a function, got ${typeof f}`);
  const argnums = options?.argnums ?? 0;
  const list = typeof argnums === 'number' ? [argnums] : [...(argnums as readonly number[])];
  return (...args: A) =>
    tidy(() => {
      const tape = new Tape();
      const leaves = list.map((i) => {
        const a = args[i];
        if (!isTensor(a)) throw new ValueError(`grad: argument ${i} must be a Tensor to be differentiated, got ${a === null ? 'null' : typeof a}`);
        tape.flags.set(a, INPUT);
        return a;
      });
      let value: unknown;
      try {
        value = withTape(tape, () => f(...args));
      } catch (e) {
        if (e instanceof NeuroneError && !e.message.startsWith('grad')) e.message = `grad: ${e.message}`;
        throw e;
      }
      if (!isTensor(value)) throw new ValueError(`grad: f must return a Tensor, got ${value === null ? 'null' : typeof value}`);
      if (value.size !== 1) throw new ShapeError('grad', 'f must return a scalar (a one-element tensor)', { value: value.shape });
      const grads = withTape(null, () => backprop(tape, value as Tensor, value.backend.full(value.shape, 1), INPUT));
      const seen = new Set<Tensor>(); // one tensor per gradient, even where two share one (x + y)
      const gs = leaves.map((a) => {
        const g = grads.get(a) ?? a.backend.zeros(a.shape);
        return seen.has(g) ? g.clone() : (seen.add(g), g);
      });
      return [value, (typeof argnums === 'number' ? gs[0] : gs) as Grads<N>] as [Tensor, Grads<N>];
    });
}

/** `grad(f)(...args)` → ∂f/∂args[argnums] (jax's `grad`): see `valueAndGrad`; the value is freed. */
export function grad<A extends unknown[], N extends number | readonly number[] = 0>(f: (...args: A) => Tensor, options: GradOptions<N> = {}): (...args: A) => Grads<N> {
  const vg = valueAndGrad(f, options);
  return (...args: A) => {
    const [value, g] = vg(...args);
    if (!args.includes(value)) value.dispose();
    return g;
  };
}
