import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@neurone/core';
import type { Backend, Module, RawTensor } from '@neurone/core';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';

export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
export const cases = (): Record<string, RawTensor> => decodeSafetensors(fixture('cases.safetensors'));

/** Where the tests leave the models they export, for fixtures/check_exported.py (onnx.checker; not run in CI). */
export function keepExported(name: string, bytes: Uint8Array): void {
  const dir = join(tmpdir(), 'neurone-onnx-exported');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.onnx`), bytes);
}

/** Runs ONNX bytes in ONNX Runtime (CPU) on float32 input x of `shape`; the output's values. */
export async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, shape) });
    const t = out[session.outputNames[0]!]!;
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

/** Runs a neurone model (eval mode) on x; the output's values. */
export async function runNeurone(model: Module, backend: Backend, x: ArrayLike<number>, shape: number[]): Promise<Float32Array | Float64Array> {
  model.eval();
  const xt = backend.tensor(x, shape);
  const y = model.forward(xt);
  const data = await y.data();
  xt.dispose();
  y.dispose();
  return data;
}

/** Expects the same state dict (parameters and buffers: names, shapes, values bit for bit). */
export async function expectSameState(a: Module, b: Module): Promise<void> {
  const [sa, sb] = [a.stateDict(), b.stateDict()];
  expect(Object.keys(sa)).toEqual(Object.keys(sb));
  for (const [k, t] of Object.entries(sa)) {
    expect(t.shape, k).toEqual(sb[k]!.shape);
    expect(Array.from(await t.data()), k).toEqual(Array.from(await sb[k]!.data()));
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Index of the largest value of each row of `cols` values. */
export function argmaxRows(a: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / cols; r++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (a[r * cols + j]! > a[r * cols + best]!) best = j;
    out.push(best);
  }
  return out;
}
