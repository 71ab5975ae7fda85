import type { Backend } from './backend';
import { DataError } from './errors';
import type { Shape } from './shape';
import { sizeOf } from './shape';
import type { Tensor } from './tensor';

/**
 * The safetensors format (also read by PyTorch, JAX and TF.js tools): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
 */
const DTYPES = { float32: ['F32', 4], float64: ['F64', 8] } as const;

/** A tensor as host values with its shape (what safetensors files store). */
export interface RawTensor {
  shape: Shape;
  data: Float32Array | Float64Array;
}

/** Encodes named tensors as safetensors bytes (async: works on every backend). */
export async function toSafetensors(dict: Record<string, Tensor>, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const raw: Record<string, RawTensor> = {};
  for (const [k, t] of Object.entries(dict)) raw[k] = { shape: t.shape, data: await t.data() };
  return encodeSafetensors(raw, metadata);
}

/** Encodes named host tensors as safetensors bytes (synchronous; float64 data is stored as F64). */
export function encodeSafetensors(dict: Record<string, RawTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const entries = Object.entries(dict);
  for (const [k, { shape, data }] of entries) {
    const [code, bytes] = data instanceof Float64Array ? DTYPES.float64 : DTYPES.float32;
    header[k] = { dtype: code, shape: [...shape], data_offsets: [offset, offset + data.length * bytes] };
    offset += data.length * bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const [, { data }] of entries) {
    const le = new DataView(out.buffer, pos, data.byteLength);
    const f64 = data instanceof Float64Array;
    for (let i = 0; i < data.length; i++) {
      if (f64) le.setFloat64(i * 8, data[i]!, true);
      else le.setFloat32(i * 4, data[i]!, true);
    }
    pos += data.byteLength;
  }
  return out;
}

/** Decodes safetensors bytes; throws a DataError naming `source` on a truncated or corrupt file. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): Record<string, RawTensor> {
  const bad = (why: string): never => {
    throw new DataError(`${source}: ${why}`);
  };
  if (bytes.length < 8) bad(`${bytes.length} bytes is too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) bad(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    return bad('header is not valid JSON');
  }
  const base = 8 + n;
  const out: Record<string, RawTensor> = {};
  for (const [k, e] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const width = e.dtype === 'F32' ? 4 : e.dtype === 'F64' ? 8 : bad(`${k}: unsupported dtype ${e.dtype}`);
    const [b, end] = e.data_offsets;
    const count = sizeOf(e.shape);
    if (end - b !== count * width) bad(`${k}: ${end - b} bytes for shape [${e.shape.join(', ')}] of ${e.dtype}`);
    if (base + end > bytes.length) bad(`${k}: data runs past the end of the file (truncated?)`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + base + b, end - b);
    const data = width === 8 ? new Float64Array(count) : new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = width === 8 ? dv.getFloat64(i * 8, true) : dv.getFloat32(i * 4, true);
    out[k] = { shape: e.shape, data };
  }
  return out;
}

/** Decodes safetensors bytes into tensors on `backend`. */
export function fromSafetensors(bytes: Uint8Array, backend: Backend, source?: string): Record<string, Tensor> {
  const raw = decodeSafetensors(bytes, source);
  return Object.fromEntries(Object.entries(raw).map(([k, r]) => [k, backend.tensor(r.data, r.shape)]));
}
