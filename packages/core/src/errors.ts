import type { Shape } from './shape';

/** Base class of every error neurone throws on purpose. */
export class NeuroneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const fmt = (s: Shape): string => `[${s.join(', ')}]`;

/** Shapes that do not fit an op: names the op and every shape involved. */
export class ShapeError extends NeuroneError {
  readonly op: string;
  readonly shapes: Readonly<Record<string, Shape>>;
  constructor(op: string, detail: string, shapes: Record<string, Shape> = {}) {
    const list = Object.entries(shapes)
      .map(([k, s]) => `${k}: ${fmt(s)}`)
      .join(', ');
    super(`${op}: ${detail}${list ? ` (${list})` : ''}`);
    this.op = op;
    this.shapes = shapes;
  }
}

/** Tensors from two backends meet in one op; neurone never copies silently. */
export class BackendMismatchError extends NeuroneError {
  constructor(op: string, expected: string, got: string) {
    super(
      `${op}: tensors live on different backends (${expected} and ${got}); ` +
        `move one explicitly, e.g. with backend.tensor(await t.data(), t.shape) or module.to(backend)`,
    );
  }
}

/** A tensor used after dispose(). */
export class DisposedError extends NeuroneError {
  constructor(op: string, shape: Shape) {
    super(`${op}: tensor of shape ${fmt(shape)} was disposed and cannot be used`);
  }
}

/** A value outside what an op accepts (labels out of range, NaN loss, bad option...). */
export class ValueError extends NeuroneError {}

/** Input data that cannot be read (a truncated or corrupt file...). */
export class DataError extends NeuroneError {}

/**
 * A backward that needs what its module's forward saved (a dropout mask, batch statistics) was
 * called for an input that forward did not see, or after that state was freed.
 */
export class StateError extends NeuroneError {}

/** A backend that cannot do what was asked (sync read on an async device, lost context...). */
export class BackendError extends NeuroneError {}

/**
 * An allocation refused before it was made: more bytes than the backend may hold (its
 * `maxBytes`) or than the host has available. Says how much was asked and how much there is.
 */
export class MemoryError extends BackendError {
  /** Bytes the allocation asked for. */
  readonly requested: number;
  /** Bytes there were to give (under `maxBytes`, or the host's available memory). */
  readonly available: number;
  constructor(message: string, requested: number, available: number) {
    super(message);
    this.requested = requested;
    this.available = available;
  }
}
