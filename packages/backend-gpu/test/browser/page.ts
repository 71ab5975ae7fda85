/**
 * The Chromium test page: bundled by test/browser.test.ts with esbuild, it exposes
 * `window.neuroneRun(task)` which runs the conformance suite, the W2 parity curve or the memory
 * probe on `gpu({ mode })` and returns plain JSON.
 */
import { Backend } from '@neurone/core';
import { referenceKernels, runConformanceCases, runModuleConformanceCases } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { gpu } from '../../src/index';
import type { GpuMode } from '../../src/index';
import { W2, SMALL, trainCurve, curveGap, memoryProbe, noTidyLoop } from '../workloads';
import { countGpuBuffers } from '../helpers';
import { CONFORMANCE_TOLERANCE } from '../tolerances';
import { MODULE_LIBRARY, MODULE_TOLERANCE } from '../modules';

export interface Task {
  kind: 'conformance' | 'modules' | 'parity' | 'memory' | 'no-tidy' | 'device-errors';
  mode: GpuMode;
  steps?: number;
  hidden?: number;
}

/** Counts live WebGL textures by wrapping createTexture / deleteTexture. */
function countTextures(): () => number {
  const proto = WebGL2RenderingContext.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const live = new Set<unknown>();
  const create = proto.createTexture!;
  const del = proto.deleteTexture!;
  proto.createTexture = function (this: unknown, ...a: unknown[]) {
    const t = create.apply(this, a);
    live.add(t);
    return t;
  };
  proto.deleteTexture = function (this: unknown, ...a: unknown[]) {
    live.delete(a[0]);
    return del.apply(this, a);
  };
  return () => live.size;
}

const outcome = (p: () => Promise<ArrayLike<number>>): Promise<string> =>
  p().then(
    (v) => `values ${Array.from(v).join(', ')}`,
    (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
  );

/** GL modes: an error flag raised on the context, then a real context loss (WEBGL_lose_context). */
async function deviceErrors(mode: GpuMode) {
  const B = gpu({ mode });
  const x = B.tensor([1, 2, 3], [3]);
  const before = await outcome(() => B.unary('square', x).data());
  (B.glContext as WebGL2RenderingContext).bindTexture(0x1234, null); // GL_INVALID_ENUM
  const flagged = await outcome(() => B.unary('tanh', x).data());
  const later = await outcome(async () => B.unary('abs', x).data());
  const B2 = gpu({ mode });
  const fresh = await outcome(() => B2.unary('square', B2.tensor([3], [1])).data());
  const gl2 = B2.glContext as WebGL2RenderingContext;
  const y = B2.tensor([1, 2], [2]);
  gl2.getExtension('WEBGL_lose_context')!.loseContext();
  const lost = await outcome(async () => B2.unary('tanh', y).data());
  return { before, flagged, later, fresh, lost };
}

async function run(task: Task): Promise<unknown> {
  const counter = task.mode === 'webgpu' ? countGpuBuffers() : countTextures();
  const B = await gpu({ mode: task.mode }).ready();
  const info = { name: B.name, userAgent: navigator.userAgent };
  if (task.kind === 'conformance') {
    const t0 = performance.now();
    const results = await runConformanceCases(() => gpu({ mode: task.mode }), CONFORMANCE_TOLERANCE);
    return { ...info, results, ms: performance.now() - t0 };
  }
  if (task.kind === 'modules') {
    const t0 = performance.now();
    const results = await runModuleConformanceCases(() => gpu({ mode: task.mode }), () => new Backend(referenceKernels()), MODULE_LIBRARY, MODULE_TOLERANCE);
    return { ...info, results, ms: performance.now() - t0 };
  }
  if (task.kind === 'parity') {
    const spec = { ...W2, steps: task.steps ?? W2.steps, hidden: task.hidden ?? W2.hidden };
    const ref = await trainCurve(cpu(), spec);
    const got = await trainCurve(B, spec);
    return { ...info, cpu: ref, gpu: got, gap: curveGap(got.losses, ref.losses) };
  }
  if (task.kind === 'no-tidy') {
    // gc: Chromium runs with --js-flags=--expose-gc; chromiumRss: exposed by the test (all of Chromium's processes)
    const g = globalThis as unknown as { gc?: () => void; chromiumRss: () => Promise<Record<string, number>>; performance: { memory?: { usedJSHeapSize: number } } };
    const probe = async () => ({ ...B.memory(), device: counter(), jsHeap: g.performance.memory?.usedJSHeapSize ?? NaN, rss: await g.chromiumRss() });
    return { ...info, ...(await noTidyLoop(B, { steps: task.steps ?? 2000, warmAt: 1000, every: 250, gc: g.gc }, probe)) };
  }
  if (task.kind === 'device-errors') return { ...info, ...(await deviceErrors(task.mode)) };
  const r = await memoryProbe(B, { ...SMALL, steps: task.steps ?? SMALL.steps }, () => ({ ...B.memory(), device: counter() }));
  return { ...info, ...r };
}

(globalThis as unknown as { neuroneRun: typeof run }).neuroneRun = (task: Task) =>
  run(task).catch((e: unknown) => ({ error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) }));
