import { DataError, ValueError } from './errors';
import { RNG } from './random';
import type { RNGState } from './random';
import { encodeSafetensors, parseSafetensors } from './serialize';
import type { RawTensor } from './serialize';
import type { Tensor } from './tensor';
import { isTensor } from './tensor';
import { show, valueProblem } from './values';

/**
 * Checkpoints: one safetensors file. The model's weights are tensors under their dotted names
 * (PyTorch's `state_dict` names, so `safetensors.torch.load_file` + `load_state_dict` read them);
 * optimizer and scheduler state tensors are tensors named `__optimizer__/<path>` and
 * `__scheduler__/<path>`; everything else is JSON in `__metadata__`:
 * `neurone.checkpoint` (format version, "1"), `neurone.optimizer`, `neurone.scheduler` (their
 * state dicts, each state tensor replaced by `{ "$tensor": name }`), `neurone.epoch`,
 * `neurone.rng` (an RNGState), plus `format: "pt"` and the caller's own metadata strings.
 */

/** The version written in `neurone.checkpoint`. */
export const CHECKPOINT_VERSION = '1';

const OPT = '__optimizer__/';
const SCHED = '__scheduler__/';
/** How deep an optimizer's or scheduler's state may nest (a cycle or a hostile file goes no deeper). */
const MAX_STATE_DEPTH = 64;

/** What holds state to save: a Module (stateDict of tensors), an optimizer, a scheduler. */
interface HasStateDict {
  stateDict(): unknown;
}

/** What `toBytes` and `save` take: the model, and optionally the optimizer, scheduler, epoch, RNG and metadata. */
export interface CheckpointInput {
  /** A Module (its stateDict()), or a record of tensors or of `{ shape, data }` (Float32Array / Float64Array). */
  model: HasStateDict | Record<string, Tensor | RawTensor>;
  /** An optimizer (its stateDict(): the state tensors are read asynchronously here). */
  optimizer?: HasStateDict;
  /** A learning-rate scheduler (its stateDict()). */
  scheduler?: HasStateDict;
  /** Epochs completed (fit's `initialEpoch` when resuming). */
  epoch?: number;
  /** The shuffle generator (fit's `rng`), or its state. */
  rng?: RNG | RNGState;
  /** Free-form strings kept in the file (keys may not start with "neurone."). */
  metadata?: Record<string, string>;
  /**
   * Write NaN and ±Infinity values too (default false: a ValueError names the first non-finite
   * tensor, since `loadStateDict` refuses them and the file could not be loaded back).
   */
  allowNonFinite?: boolean;
}

/** What `fromBytes` and `load` give back, ready for `loadStateDict` and `fit`'s resume options. */
export interface Checkpoint {
  /** The model's weights by dotted name (null-prototype record): `net.loadStateDict(ckpt.weights)`. */
  weights: Record<string, RawTensor>;
  /** The optimizer's state dict, state tensors as `{ shape, data }`: `optimizer.loadStateDict(ckpt.optimizer)`. */
  optimizer?: Record<string, unknown>;
  /** The scheduler's state dict: `scheduler.loadStateDict(ckpt.scheduler)`. */
  scheduler?: Record<string, unknown>;
  epoch?: number;
  /** The shuffle generator's state: `RNG.fromState(ckpt.rng)`. */
  rng?: RNGState;
  /** The caller's metadata strings (and `format`). */
  metadata: Record<string, string>;
}

const isRawLike = (v: unknown): v is { shape: number[]; data: ArrayLike<number> } =>
  v !== null && typeof v === 'object' && Array.isArray((v as { shape?: unknown }).shape) && (v as { data?: unknown }).data != null &&
  typeof (v as { data: { length?: unknown } }).data.length === 'number' && typeof (v as { data: unknown }).data === 'object';

/**
 * Replaces every tensor or `{ shape, data }` inside a state dict with `{ "$tensor": name }`,
 * collecting the values in `out` under `prefix` + the JSON path.
 */
async function extract(owner: string, v: unknown, prefix: string, path: string[], out: Map<string, RawTensor>): Promise<unknown> {
  if (path.length > MAX_STATE_DEPTH) throw new ValueError(`${owner}: the state nests deeper than ${MAX_STATE_DEPTH} levels at ${path.slice(0, 8).join('.')}… (a cycle?)`);
  if (isTensor(v)) {
    const data = await v.data();
    const name = prefix + path.join('/');
    out.set(name, { shape: [...v.shape], data });
    return { $tensor: name };
  }
  if (isRawLike(v)) {
    const d = v.data;
    const data = d instanceof Float32Array || d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>);
    const name = prefix + path.join('/');
    out.set(name, { shape: [...v.shape], data });
    return { $tensor: name };
  }
  if (Array.isArray(v)) return Promise.all(v.map((x, i) => extract(owner, x, prefix, [...path, String(i)], out)));
  if (v !== null && typeof v === 'object') {
    if (ArrayBuffer.isView(v)) throw new ValueError(`${owner}: ${path.join('.')} is a typed array without a shape; state values must be { shape, data }`);
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('/')) throw new ValueError(`${owner}: state key '${k}' may not contain '/'`);
      o[k] = await extract(owner, x, prefix, [...path, k], out);
    }
    return o;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new ValueError(`${owner}: ${path.join('.')} is ${v}; a state dict holds finite numbers`);
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
    throw new ValueError(`${owner}: ${path.join('.') || 'the state dict'} is ${typeof v}, which a checkpoint cannot hold`);
  }
  return v;
}

function checkEpoch(owner: string, epoch: unknown): number {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw new ValueError(`${owner}: epoch must be a non-negative integer, got ${String(epoch)}`);
  return epoch;
}

/**
 * Encodes a checkpoint as safetensors bytes (works everywhere: browser, Node, workers). Reads
 * tensors asynchronously, so it works on every backend. Throws a ValueError naming the problem
 * on an unknown option or a value a checkpoint cannot hold: a state nested deeper than 64 levels
 * (or cyclic), or a NaN or ±Infinity in any tensor (loadStateDict would refuse the file) unless
 * `allowNonFinite` is set.
 */
export async function toBytes(checkpoint: CheckpointInput): Promise<Uint8Array> {
  const owner = 'toBytes';
  if (checkpoint == null || typeof checkpoint !== 'object') throw new ValueError(`${owner}: expected { model, optimizer?, scheduler?, epoch?, rng?, metadata? }, got ${String(checkpoint)}`);
  const valid = ['model', 'optimizer', 'scheduler', 'epoch', 'rng', 'metadata', 'allowNonFinite'];
  const unknown = Object.keys(checkpoint).filter((k) => !valid.includes(k));
  if (unknown.length) throw new ValueError(`${owner}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; valid keys: ${valid.join(', ')}`);
  const { model, optimizer, scheduler, epoch, rng, metadata = {}, allowNonFinite = false } = checkpoint;
  if (model == null || typeof model !== 'object') throw new ValueError(`${owner}: model is required (a Module or a record of tensors)`);
  if (typeof allowNonFinite !== 'boolean') throw new ValueError(`${owner}: allowNonFinite must be a boolean, got ${String(allowNonFinite)}`);
  const tensors = new Map<string, RawTensor>();
  const weights = typeof (model as HasStateDict).stateDict === 'function' ? (model as HasStateDict).stateDict() : model;
  if (weights == null || typeof weights !== 'object') throw new ValueError(`${owner}: model.stateDict() must give a record of tensors`);
  for (const [k, t] of Object.entries(weights as Record<string, unknown>)) {
    if (k.startsWith(OPT) || k.startsWith(SCHED)) throw new ValueError(`${owner}: weight name '${k}' uses a reserved prefix`);
    if (isTensor(t)) tensors.set(k, { shape: [...t.shape], data: await t.data() });
    else if (isRawLike(t) && (t.data instanceof Float32Array || t.data instanceof Float64Array)) tensors.set(k, { shape: [...t.shape], data: t.data });
    else throw new ValueError(`${owner}: weight '${k}' is not a tensor`);
  }
  const meta: Record<string, string> = { format: 'pt' };
  if (metadata === null || typeof metadata !== 'object') throw new ValueError(`${owner}: metadata must be a { key: string } object`);
  for (const [k, v] of Object.entries(metadata)) {
    if (k.startsWith('neurone.')) throw new ValueError(`${owner}: metadata key '${k}' is reserved (keys starting with "neurone.")`);
    if (typeof v !== 'string') throw new ValueError(`${owner}: metadata '${k}' must be a string, got ${typeof v}`);
    meta[k] = v;
  }
  meta['neurone.checkpoint'] = CHECKPOINT_VERSION;
  if (optimizer !== undefined) {
    if (optimizer === null || typeof optimizer.stateDict !== 'function') throw new ValueError(`${owner}: optimizer must have stateDict()`);
    const dict = optimizer.stateDict();
    meta['neurone.optimizer'] = JSON.stringify(await extract(`${owner} (optimizer)`, dict, OPT, [], tensors));
  }
  if (scheduler !== undefined) {
    if (scheduler === null || typeof scheduler.stateDict !== 'function') throw new ValueError(`${owner}: scheduler must have stateDict()`);
    meta['neurone.scheduler'] = JSON.stringify(await extract(`${owner} (scheduler)`, scheduler.stateDict(), SCHED, [], tensors));
  }
  if (epoch !== undefined) meta['neurone.epoch'] = String(checkEpoch(owner, epoch));
  if (rng !== undefined) {
    const state = rng instanceof RNG ? rng.getState() : RNG.fromState(rng).getState(); // validates
    meta['neurone.rng'] = JSON.stringify(state);
  }
  // never write what load refuses: loadStateDict takes finite values only
  for (const [k, t] of allowNonFinite ? [] : tensors) {
    const bad = valueProblem(t.data);
    const what = k.startsWith(OPT) ? `optimizer state '${k.slice(OPT.length)}'` : k.startsWith(SCHED) ? `scheduler state '${k.slice(SCHED.length)}'` : `weight '${k}'`;
    if (bad) throw new ValueError(`${owner}: ${what}: ${bad}; loadStateDict would refuse it, so nothing was written (allowNonFinite: true writes it anyway)`);
  }
  return encodeSafetensors(tensors, meta);
}

/** Puts the `{ "$tensor": name }` placeholders back, taking each tensor once; at most MAX_STATE_DEPTH deep. */
function restore(source: string, key: string, v: unknown, tensors: Record<string, RawTensor>, used: Set<string>, depth = 0): unknown {
  if (depth > MAX_STATE_DEPTH && v !== null && typeof v === 'object') throw new DataError(`${source}: ${key} nests deeper than ${MAX_STATE_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => restore(source, key, x, tensors, used, depth + 1));
  if (v !== null && typeof v === 'object') {
    const ref = (v as { $tensor?: unknown }).$tensor;
    if (ref !== undefined) {
      if (typeof ref !== 'string' || !Object.hasOwn(tensors, ref) || used.has(ref)) throw new DataError(`${source}: ${key} refers to a missing or repeated tensor ${show(ref)}`);
      used.add(ref);
      const t = tensors[ref]!;
      return { shape: [...t.shape], data: t.data };
    }
    const o = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) o[k] = restore(source, key, x, tensors, used, depth + 1);
    return o;
  }
  return v;
}

/**
 * Decodes checkpoint bytes (see toBytes). A plain safetensors file of weights (e.g. written by
 * PyTorch) reads as a checkpoint with only `weights`. Throws a DataError naming `source` on a
 * corrupt file (the safetensors rules) or malformed checkpoint metadata.
 */
export function fromBytes(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const { tensors, metadata } = parseSafetensors(bytes, source);
  const version = metadata['neurone.checkpoint'];
  if (version !== undefined && version !== CHECKPOINT_VERSION) throw new DataError(`${source}: checkpoint format version ${version} is not supported (this neurone reads ${CHECKPOINT_VERSION})`);
  const json = (key: string): unknown => {
    const text = metadata[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new DataError(`${source}: __metadata__ '${key}' is not valid JSON (${(e as Error).message})`);
    }
  };
  const used = new Set<string>();
  const out: Checkpoint = { weights: Object.create(null) as Record<string, RawTensor>, metadata: Object.create(null) as Record<string, string> };
  const opt = json('neurone.optimizer');
  if (opt !== undefined) {
    if (opt === null || typeof opt !== 'object' || Array.isArray(opt)) throw new DataError(`${source}: neurone.optimizer must be a JSON object`);
    out.optimizer = restore(source, 'neurone.optimizer', opt, tensors, used) as Record<string, unknown>;
  }
  const sched = json('neurone.scheduler');
  if (sched !== undefined) {
    if (sched === null || typeof sched !== 'object' || Array.isArray(sched)) throw new DataError(`${source}: neurone.scheduler must be a JSON object`);
    out.scheduler = restore(source, 'neurone.scheduler', sched, tensors, used) as Record<string, unknown>;
  }
  const epoch = metadata['neurone.epoch'];
  if (epoch !== undefined) {
    if (!/^\d{1,15}$/.test(epoch)) throw new DataError(`${source}: neurone.epoch must be a non-negative integer, got ${show(epoch)}`);
    out.epoch = Number(epoch);
  }
  const rng = json('neurone.rng');
  if (rng !== undefined) {
    try {
      out.rng = RNG.fromState(rng as RNGState).getState();
    } catch (e) {
      throw new DataError(`${source}: neurone.rng is not an RNG state (${(e as Error).message})`);
    }
  }
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(OPT) || k.startsWith(SCHED)) {
      if (!used.has(k)) throw new DataError(`${source}: tensor '${k}' is not referenced by the optimizer or scheduler state`);
    } else out.weights[k] = t;
  }
  for (const [k, v] of Object.entries(metadata)) if (!k.startsWith('neurone.')) out.metadata[k] = v;
  return out;
}
