import type { Backend } from './backend';
import { DataError, ValueError } from './errors';
import { show } from './values';
import { getBackend } from './registry';
import type { Shape } from './shape';
import type { Tensor } from './tensor';
import { isTensor } from './tensor';

/**
 * The safetensors format (read by PyTorch, JAX, TF.js and Hugging Face tools): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets },
 * "__metadata__"?: { key: string } }`, then the raw little-endian data. The reader follows the
 * reference implementation's rules (huggingface/safetensors): see `parseSafetensors`.
 */

/** The largest header the reader accepts, as in the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Element width of every dtype the format defines (neurone reads F32, F64, F16, BF16, I64). */
const WIDTHS: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const READABLE = new Set(['F32', 'F64', 'F16', 'BF16', 'I64']);

/** Names that would reach an object's prototype machinery; never a tensor name. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** A safetensors dtype neurone reads ('F32', 'F64', 'F16', 'BF16', 'I64': PyTorch's integer buffers, `num_batches_tracked`); it writes F32 and F64. */
export type SafetensorsDType = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64';

/** A tensor as host values with its shape (what safetensors files store). */
export interface RawTensor {
  shape: Shape;
  /** F64 and I64 (exact up to 2⁵³) entries read as Float64Array; F32, F16 and BF16 as Float32Array (exact widening). */
  data: Float32Array | Float64Array;
}

/** A decoded file: the tensors (a null-prototype record, in file order) and the metadata strings. */
export interface SafetensorsFile {
  tensors: Record<string, RawTensor>;
  dtypes: Record<string, SafetensorsDType>;
  metadata: Record<string, string>;
}

function checkName(owner: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValueError(`${owner}: tensor names must be non-empty strings, got ${show(name)}`);
  if (name === '__metadata__') throw new ValueError(`${owner}: '__metadata__' is reserved for the metadata and cannot name a tensor`);
  if (FORBIDDEN_NAMES.has(name)) throw new ValueError(`${owner}: '${name}' cannot name a tensor (it would reach object prototypes)`);
}

function checkMetadata(owner: string, metadata: unknown): Record<string, string> {
  if (metadata == null) return {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new ValueError(`${owner}: metadata must be a { key: string } object, got ${String(metadata)}`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new ValueError(`${owner}: metadata '${k}' must be a string, got ${typeof v}`);
  }
  return metadata as Record<string, string>;
}

const entriesOf = <T>(d: Record<string, T> | Map<string, T>): [string, T][] => (d instanceof Map ? [...d] : Object.entries(d));

/** Encodes named tensors as safetensors bytes (async: works on every backend). */
export async function toSafetensors(dict: Record<string, Tensor> | Map<string, Tensor>, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  if (dict == null || typeof dict !== 'object') throw new ValueError(`toSafetensors: expected a { name: Tensor } record, got ${String(dict)}`);
  const raw = new Map<string, RawTensor>();
  for (const [k, t] of entriesOf(dict)) {
    if (!isTensor(t)) {
      throw new ValueError(`toSafetensors: '${k}' is not a Tensor (got ${t === null ? 'null' : typeof t}); write plain values with encodeSafetensors`);
    }
    raw.set(k, { shape: t.shape, data: await t.data() });
  }
  return encodeSafetensors(raw, metadata);
}

/**
 * Encodes `{ name: { shape, data } }` as safetensors bytes: Float64Array data as F64, Float32Array
 * as F32, in the given order, the data aligned to 8 bytes. Throws a ValueError naming the entry
 * on a bad name, shape or length.
 */
export function encodeSafetensors(dict: Record<string, RawTensor> | Map<string, RawTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const owner = 'encodeSafetensors';
  if (dict == null || typeof dict !== 'object') throw new ValueError(`${owner}: expected a { name: { shape, data } } record, got ${String(dict)}`);
  const meta = checkMetadata(owner, metadata);
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(meta).length) header.__metadata__ = meta;
  let offset = 0;
  const entries = entriesOf(dict);
  for (const [k, r] of entries) {
    checkName(owner, k);
    if (r == null || typeof r !== 'object') throw new ValueError(`${owner}: '${k}' must be { shape, data }, got ${String(r)}`);
    const { shape, data } = r;
    if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
      throw new ValueError(`${owner}: '${k}' data must be a Float32Array or a Float64Array`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ValueError(`${owner}: '${k}' shape must be an array of non-negative integers, got ${show(shape)}`);
    }
    const count = shape.reduce((a: number, d: number) => a * d, 1);
    if (count !== data.length) throw new ValueError(`${owner}: '${k}' has ${data.length} values for shape [${shape.join(', ')}] (${count})`);
    const width = data instanceof Float64Array ? 8 : 4;
    header[k] = { dtype: width === 8 ? 'F64' : 'F32', shape: [...shape], data_offsets: [offset, offset + data.length * width] };
    offset += data.length * width;
  }
  let json = JSON.stringify(header);
  const head0 = new TextEncoder().encode(json);
  json += ' '.repeat((8 - (head0.length % 8)) % 8); // the data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const [, { data }] of entries) {
    const f64 = data instanceof Float64Array;
    for (let i = 0; i < data.length; i++) {
      if (f64) view.setFloat64(pos + i * 8, data[i]!, true);
      else view.setFloat32(pos + i * 4, data[i]!, true);
    }
    pos += data.byteLength;
  }
  return out;
}

/** IEEE half → number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Decodes safetensors bytes, enforcing the format's rules; every failure is a DataError naming
 * `source` and the entry:
 * - at least 8 bytes; the header length at most 100 MB and within the bytes; the header valid
 *   UTF-8 JSON that starts with `{` and is an object;
 * - `__metadata__`, when present, maps strings to strings;
 * - every other entry is `{ dtype, shape, data_offsets }`: a known dtype (F32, F64, F16, BF16
 *   and I64 within ±2⁵³ are read; other defined dtypes are refused as unsupported), a shape of non-negative integers,
 *   two integer offsets with 0 ≤ begin ≤ end, and end − begin = product(shape) × width;
 * - the entries, sorted by offset, are contiguous, do not overlap and cover the data exactly
 *   (no gap, no trailing byte);
 * - no name reaches object prototypes (`__proto__`, `constructor`, `prototype` are refused) and
 *   the results are null-prototype records;
 * - reads never leave the given view (a subarray of a larger buffer, e.g. Node's pool).
 * Memory: the result is at most twice the data's size (F16/BF16 widen to Float32Array).
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  const bad = (why: string): never => {
    throw new DataError(`${source}: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) bad(`expected a Uint8Array of file bytes, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < 8) bad(`${bytes.length} bytes is too short for a safetensors header (8-byte length first)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) bad(`header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) bad(`header length ${n} runs past the end of the data (${bytes.length} bytes; truncated?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return bad('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) bad('the header must be a JSON object starting with {');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) return bad('the header must be a JSON object');
  const dataLen = bytes.length - 8 - n;
  const base = bytes.byteOffset + 8 + n;

  const metadata = Object.create(null) as Record<string, string>;
  const meta = header.__metadata__;
  if (meta !== undefined && meta !== null) {
    if (!isPlainObject(meta)) bad('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') bad(`__metadata__ '${k}' must be a string, got ${v === null ? 'null' : typeof v}`);
      if (FORBIDDEN_NAMES.has(k)) bad(`__metadata__ key '${k}' is not allowed`);
      metadata[k] = v as string;
    }
  }

  type Entry = { name: string; dtype: SafetensorsDType; shape: number[]; count: number; begin: number; end: number };
  const entries: Entry[] = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${name}'`;
    if (FORBIDDEN_NAMES.has(name)) bad(`${where}: this name is not allowed (it would reach object prototypes)`);
    if (!isPlainObject(e)) bad(`${where}: the entry must be an object { dtype, shape, data_offsets }, got ${e === null ? 'null' : Array.isArray(e) ? 'an array' : typeof e}`);
    const entry = e as Record<string, unknown>;
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') return bad(`${where}: dtype must be a string, got ${show(dtype)}`);
    const width = Object.hasOwn(WIDTHS, dtype) ? WIDTHS[dtype]! : bad(`${where}: unknown dtype ${show(dtype)}`);
    if (!READABLE.has(dtype)) bad(`${where}: dtype ${dtype} is not supported (neurone reads F32, F64, F16, BF16 and I64)`);
    if (!Array.isArray(shape)) return bad(`${where}: shape must be an array of non-negative integers, got ${show(shape)}`);
    let count = 1;
    for (const d of shape as unknown[]) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) bad(`${where}: shape [${(shape as unknown[]).map((x) => show(x)).join(', ')}] holds ${show(d)}, not a non-negative integer`);
      count *= d as number;
    }
    if (!Array.isArray(offsets) || offsets.length !== 2) return bad(`${where}: data_offsets must be [begin, end], got ${show(offsets)}`);
    const [begin, end] = offsets as unknown[];
    for (const o of [begin, end]) {
      if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) bad(`${where}: data_offsets [${show(begin)}, ${show(end)}] must be non-negative integers`);
    }
    const b = begin as number;
    const en = end as number;
    if (b > en) bad(`${where}: data_offsets [${b}, ${en}] are reversed (begin > end)`);
    if (en > dataLen) bad(`${where}: data_offsets [${b}, ${en}] run past the ${dataLen} data bytes (truncated?)`);
    if (en - b !== count * width) bad(`${where}: ${en - b} bytes for shape [${(shape as number[]).join(', ')}] of ${dtype} (needs ${count * width})`);
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], count, begin: b, end: en });
  }

  // contiguous, non-overlapping, covering the data exactly
  const sorted = [...entries].sort((p, q) => p.begin - q.begin || p.end - q.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) {
      bad(
        e.begin < at
          ? `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous entry (which ends at ${at})`
          : `tensor '${e.name}': a gap of ${e.begin - at} bytes before its data_offsets [${e.begin}, ${e.end}] (entries must be contiguous)`,
      );
    }
    at = e.end;
  }
  if (at !== dataLen) bad(`the entries cover ${at} of the ${dataLen} data bytes (no trailing bytes are allowed)`);

  const tensors = Object.create(null) as Record<string, RawTensor>;
  const dtypes = Object.create(null) as Record<string, SafetensorsDType>;
  for (const e of entries) {
    const dv = new DataView(bytes.buffer, base + e.begin, e.end - e.begin);
    let data: Float32Array | Float64Array;
    switch (e.dtype) {
      case 'F64':
        data = new Float64Array(e.count);
        for (let i = 0; i < e.count; i++) data[i] = dv.getFloat64(i * 8, true);
        break;
      case 'I64':
        data = new Float64Array(e.count);
        for (let i = 0; i < e.count; i++) {
          const v = dv.getBigInt64(i * 8, true);
          if (v > 2n ** 53n || v < -(2n ** 53n)) bad(`tensor '${e.name}': the I64 value ${v} is beyond ±2^53, which a number cannot hold exactly`);
          data[i] = Number(v);
        }
        break;
      case 'F32':
        data = new Float32Array(e.count);
        for (let i = 0; i < e.count; i++) data[i] = dv.getFloat32(i * 4, true);
        break;
      case 'F16':
        data = new Float32Array(e.count);
        for (let i = 0; i < e.count; i++) data[i] = halfToNumber(dv.getUint16(i * 2, true));
        break;
      case 'BF16': {
        data = new Float32Array(e.count);
        const scratch = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < e.count; i++) {
          scratch.setUint32(0, dv.getUint16(i * 2, true) << 16);
          data[i] = scratch.getFloat32(0);
        }
        break;
      }
    }
    tensors[e.name] = { shape: e.shape, data };
    dtypes[e.name] = e.dtype;
  }
  return { tensors, dtypes, metadata };
}

/** The tensors of safetensors bytes (see parseSafetensors for the rules); a null-prototype record. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): Record<string, RawTensor> {
  return parseSafetensors(bytes, source).tensors;
}

/** Decodes safetensors bytes into tensors on `backend` (default: the registry's, getBackend()). */
export function fromSafetensors(bytes: Uint8Array, backend: Backend = getBackend(), source?: string): Record<string, Tensor> {
  const raw = decodeSafetensors(bytes, source);
  const out = Object.create(null) as Record<string, Tensor>;
  try {
    for (const [k, r] of Object.entries(raw)) out[k] = backend.tensor(r.data, r.shape);
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}
