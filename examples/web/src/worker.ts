/// <reference lib="webworker" />
/**
 * The training worker: the MNIST MLP and a 2-D autoencoder, trained side by side on the same
 * batches, on the CPU backend or a gpu.js mode (loaded only when picked). Every operation runs
 * on one serial chain, so a switch, a prediction or a save happens between two training steps.
 */
import { DataError, fromBytes, manualSeed, tidy, toBytes } from '@neurone/core';
import type { Backend, RawTensor, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential, TanH } from '@neurone/layers';
import { BCELoss, CrossEntropyLoss } from '@neurone/losses';
import { Adam, Optim, SGD, evaluate, predict } from '@neurone/optim';
import { Autoencoder } from '@neurone/autoencoder';
import { batches } from '@neurone/data/browser';
import type { Batch } from '@neurone/data/browser';
import { ARCHS, BACKENDS } from './protocol';
import type { Arch, BackendKind, FromWorker, Step, ToWorker } from './protocol';
import { PIXELS, unpackSubset } from './subset';
import type { Subset } from './subset';

const HIDDEN = 128;
const BATCH = 64;
/** Steps between two reads of the losses (one message to the page). */
const CHUNK = 5;
/** Test images evaluated (and placed on the latent map) at each evaluation, in batches of BATCH (the kernels training compiled). */
const EVAL_SIZE = 1024;
/** Evaluate at most every 1.5 s, and at most a quarter of the time (an evaluation is slow on a software GPU). */
const EVAL_EVERY_MS = 1500;
let evalMs = 0;

const post = (m: FromWorker, transfer: Transferable[] = []): void => self.postMessage(m, transfer);

/** The classifier's input shape for n images: rows of 784 (MLP) or [28, 28, 1] channels-last images (CNN). */
const inputShape = (arch: Arch, n: number): number[] => (arch === 'cnn' ? [n, 28, 28, 1] : [n, PIXELS]);

/** The models and their optimizers, on one backend. */
function makeModels(backend: Backend, lr: number, arch: Arch) {
  const net =
    arch === 'cnn'
      ? new Sequential([new Conv2D(5, 1, 8, { backend }), new ReLU(), new MaxPool2D(2), new Flatten(), new Linear(12 * 12 * 8, 10, { backend })])
      : new Sequential([new Linear(PIXELS, HIDDEN, { backend }), new TanH(), new Linear(HIDDEN, 10, { backend })]);
  const opt = new SGD(net.parameters(), { lr, momentum: 0.9 });
  const ae = Autoencoder.dense([PIXELS, HIDDEN, 2], { codeActivation: false, backend });
  const aeOpt = new Adam(ae.parameters(), { lr: 2e-3 });
  return { net, opt, ae, aeOpt, classifier: new Optim(net, new CrossEntropyLoss(), opt), autoencoder: new Optim(ae, new BCELoss(), aeOpt) };
}
type Models = ReturnType<typeof makeModels>;
const disposeModels = (m: Models): void => [m.net, m.ae].forEach((x) => x.dispose());

let data: Subset;
let evalSet: Subset['test'];
let kind: BackendKind = 'cpu';
let backend: Backend = cpu();
let lr = 0.05;
let arch: Arch = 'mlp';
manualSeed(1);
let models = makeModels(backend, lr, arch);
let step = 0;
let epoch = 0;
let running = false;
let looping = false;
let lastEval = 0;
let epochs: Iterable<Batch>;
let batchIt: Iterator<Batch>;

function nextBatch(): Batch {
  let r = batchIt.next();
  if (r.done) {
    epoch++;
    batchIt = epochs[Symbol.iterator]();
    r = batchIt.next();
  }
  return r.value as Batch;
}

let chain: Promise<unknown> = Promise.resolve();
/** Runs `fn` after everything queued before it; an error goes to the page, naming `where`. */
function serial(where: string, fn: () => Promise<void>): Promise<unknown> {
  chain = chain.then(fn).catch((e: unknown) => {
    if (where === 'training') running = false;
    post({ type: 'error', where, message: e instanceof Error ? e.message : String(e) });
    if (where === 'training') post({ type: 'state', running, backend: kind });
  });
  return chain;
}

/** CHUNK steps of both models, then one read of their losses. */
async function trainChunk(): Promise<void> {
  const t0 = performance.now();
  const out: Tensor[] = [];
  try {
    for (let i = 0; i < CHUNK; i++) {
      const b = nextBatch();
      const x = backend.tensor(b.x.data, b.x.shape);
      const xc = x.reshape(inputShape(arch, b.x.shape[0]!)); // a view
      const y = backend.tensor(b.y.data, b.y.shape);
      out.push(models.classifier.step(xc, y), models.autoencoder.step(x, x));
      [x, xc, y].forEach((t) => t.dispose());
    }
    const values = await Promise.all(out.map((t) => t.data()));
    const steps: Step[] = [];
    for (let i = 0; i < CHUNK; i++) {
      const loss = values[2 * i]![0]!;
      const aeLoss = values[2 * i + 1]![0]!;
      step++;
      if (!Number.isFinite(loss) || !Number.isFinite(aeLoss)) {
        throw new Error(`the loss became ${Number.isFinite(loss) ? aeLoss : loss} at step ${step} (learning rate ${lr}): training stopped; lower the learning rate, or load a saved model`);
      }
      steps.push({ step, epoch, loss, aeLoss });
    }
    post({ type: 'steps', steps, samplesPerSec: (CHUNK * BATCH * 1000) / (performance.now() - t0), backend: kind });
  } finally {
    out.forEach((t) => t.dispose());
  }
  if (performance.now() - lastEval > Math.max(EVAL_EVERY_MS, 3 * evalMs)) await evaluateNow();
}

/** Test accuracy of the classifier, and the codes of the test digits for the latent map. */
async function evaluateNow(): Promise<void> {
  const t0 = performance.now();
  const r = await evaluate(models.net, new CrossEntropyLoss(), { x: { data: evalSet.x.data, shape: inputShape(arch, EVAL_SIZE) }, y: evalSet.y }, { batchSize: BATCH });
  const codes = await predict(models.ae.encoder, evalSet.x, { batchSize: BATCH });
  const latent = (await codes.data()) as Float32Array;
  codes.dispose();
  lastEval = performance.now();
  evalMs = lastEval - t0;
  const labels = evalSet.y.data.slice();
  post({ type: 'eval', step, accuracy: r.accuracy ?? 0, loss: r.loss, latent, labels, ms: evalMs }, [latent.buffer, labels.buffer]);
}

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  post({ type: 'state', running, backend: kind });
  while (running) {
    await serial('training', trainChunk);
    await new Promise((r) => setTimeout(r, 0)); // let messages in
  }
  looping = false;
  post({ type: 'state', running, backend: kind });
}

/** A backend of that kind, ready; gpu.js is loaded here, on first use. */
async function open(k: BackendKind): Promise<Backend> {
  if (k === 'cpu') return cpu();
  const { gpu } = await import('@neurone/backend-gpu');
  return gpu({ mode: k }).ready();
}

/** Optimizer state with every tensor read to the host (it can then load on any backend). */
async function toHost(v: unknown): Promise<unknown> {
  if (v !== null && typeof v === 'object' && 'dataId' in v) return { shape: (v as Tensor).shape, data: await (v as Tensor).data() };
  if (v === null || typeof v !== 'object') return v;
  const out = (Array.isArray(v) ? [] : {}) as Record<string, unknown>;
  for (const [k, x] of Object.entries(v)) out[k] = await toHost(x);
  return out;
}

/** Σ v² over every `{ data }` inside a host state dict. */
const sumSquares = (v: unknown): number =>
  v !== null && typeof v === 'object'
    ? 'data' in v && ArrayBuffer.isView((v as { data: unknown }).data)
      ? (v as { data: Float32Array }).data.reduce((s, x) => s + x * x, 0)
      : Object.values(v).reduce((s: number, x) => s + sumSquares(x), 0)
    : 0;

/** Moves both models (`toAsync`) and their optimizers' state to another backend. */
async function switchTo(k: BackendKind): Promise<void> {
  if (k === kind) return;
  let next: Backend;
  try {
    next = await open(k);
  } catch (e) {
    post({ type: 'state', running, backend: kind, note: `${k} is not available (${e instanceof Error ? e.message : String(e)}): staying on ${kind}` });
    return;
  }
  const states = async () => Promise.all([toHost(models.opt.stateDict()), toHost(models.aeOpt.stateDict())]);
  const [s1, s2] = await states();
  await models.net.toAsync(next);
  await models.ae.toAsync(next);
  models.opt.loadStateDict(s1 as Parameters<SGD['loadStateDict']>[0]);
  models.aeOpt.loadStateDict(s2 as Parameters<Adam['loadStateDict']>[0]);
  const from = kind;
  [backend, kind] = [next, k];
  const moved = { from, optimizerStep: (s1 as { step: number }).step, before: sumSquares([s1, s2]), after: sumSquares(await states()) };
  post({ type: 'state', running, backend: kind, note: `moved the live model and its optimizer state from ${from} to ${k}`, moved });
}

const prefixed = (prefix: string, dict: Record<string, Tensor>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(dict).map(([k, v]) => [`${prefix}.${k}`, v]));
function part(weights: Record<string, RawTensor>, prefix: string): Record<string, RawTensor> {
  const out: Record<string, RawTensor> = {};
  for (const [k, v] of Object.entries(weights)) if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
  return out;
}

async function save(): Promise<void> {
  const model = { ...prefixed('classifier', models.net.stateDict()), ...prefixed('autoencoder', models.ae.stateDict()) };
  const bytes = await toBytes({ model, optimizer: models.opt, epoch, metadata: { app: '@example/web', arch, step: String(step) } });
  post({ type: 'saved', bytes }, [bytes.buffer]);
}

/** The classifier as ONNX bytes (its own input layout, a dynamic batch axis); @neurone/onnx is loaded only when asked. */
async function exportOnnx(): Promise<void> {
  const { toOnnx } = await import('@neurone/onnx');
  const bytes = await toOnnx(models.net, { inputShape: inputShape(arch, 1).slice(1) });
  post({ type: 'onnx', bytes }, [bytes.buffer]);
}

/** Loads into fresh models first: on any error the current ones are kept untouched. */
async function load(bytes: Uint8Array, name: string): Promise<void> {
  const ckpt = fromBytes(bytes, name);
  const saved = ckpt.metadata.arch as Arch;
  if (ckpt.metadata.app !== '@example/web' || !(saved in ARCHS)) throw new DataError(`${name}: not a model saved by this page (no app '@example/web' and arch in its metadata)`);
  const fresh = makeModels(backend, lr, saved);
  try {
    fresh.net.loadStateDict(part(ckpt.weights, 'classifier'));
    fresh.ae.loadStateDict(part(ckpt.weights, 'autoencoder'));
    if (ckpt.optimizer) fresh.opt.loadStateDict(ckpt.optimizer as Parameters<SGD['loadStateDict']>[0]);
  } catch (e) {
    disposeModels(fresh);
    throw e;
  }
  disposeModels(models);
  [models, arch] = [fresh, saved];
  step = Number(ckpt.metadata.step ?? 0);
  epoch = ckpt.epoch ?? 0;
  post({ type: 'loaded', name, step, arch });
  await evaluateNow();
}

/** Fresh models of another architecture; the step count starts over. */
async function newModel(a: Arch): Promise<void> {
  const fresh = makeModels(backend, lr, a);
  disposeModels(models);
  [models, arch, step, epoch] = [fresh, a, 0, 0];
  post({ type: 'model', arch });
  await evaluateNow();
}

async function predictDrawing(pixels: Float32Array): Promise<void> {
  const { net, ae } = models;
  net.eval();
  ae.eval();
  try {
    const [p, r, z] = tidy(() => {
      const x = backend.tensor(pixels, [1, PIXELS]);
      const code = ae.encode(x);
      return [backend.softmax(net.forward(x.reshape(inputShape(arch, 1)))), ae.decode(code), code];
    });
    const [probs, reconstruction, code] = await Promise.all([p, r, z].map((t) => t.data()));
    [p, r, z].forEach((t) => t.dispose());
    const recon = Float32Array.from(reconstruction!);
    post({ type: 'prediction', probs: Array.from(probs!), reconstruction: recon, code: [code![0]!, code![1]!] }, [recon.buffer]);
  } finally {
    net.train();
    ae.train();
  }
}

/** Which backends this browser can run, and why not, without loading gpu.js. */
async function availability(): Promise<Record<BackendKind, true | string>> {
  const gl = typeof OffscreenCanvas === 'undefined' ? null : new OffscreenCanvas(1, 1).getContext('webgl2');
  const gpuApi = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = gpuApi ? await gpuApi.requestAdapter().catch(() => null) : null;
  return {
    cpu: true,
    webgl2: gl ? true : 'no WebGL2 context in a worker (WebGL disabled, or no GPU and no software renderer)',
    webgpu: !gpuApi ? 'navigator.gpu is missing (this browser has no WebGPU, or it is disabled)' : adapter ? true : 'no WebGPU adapter answered',
  };
}

async function init(): Promise<void> {
  const res = await fetch(new URL(`${import.meta.env.BASE_URL}mnist-subset.bin`, self.location.origin));
  if (!res.ok) throw new DataError(`mnist-subset.bin: HTTP ${res.status} (run 'pnpm --filter @example/web dev', which packs it)`);
  data = unpackSubset(new Uint8Array(await res.arrayBuffer()));
  evalSet = { x: { data: data.test.x.data.subarray(0, EVAL_SIZE * PIXELS), shape: [EVAL_SIZE, PIXELS] }, y: { data: data.test.y.data.subarray(0, EVAL_SIZE), shape: [EVAL_SIZE] } };
  epochs = batches(data.train, { batchSize: BATCH, shuffle: true, seed: 1, dropLast: true });
  batchIt = epochs[Symbol.iterator]();
  post({ type: 'ready', availability: await availability(), train: data.train.y.data.length, test: EVAL_SIZE });
}

self.addEventListener('unhandledrejection', (e) => post({ type: 'error', where: 'worker', message: String(e.reason?.message ?? e.reason) }));
const ready = serial('loading the data', init);

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  await ready;
  const m = e.data;
  if (m.type === 'start') {
    running = true;
    void loop();
  } else if (m.type === 'pause') running = false;
  else if (m.type === 'backend' && BACKENDS.includes(m.kind)) void serial('switching backend', () => switchTo(m.kind));
  else if (m.type === 'lr') void serial('setting the learning rate', async () => {
      models.opt.lr = m.lr; // checked by the optimizer (a ValueError for a negative or non-finite one)
      lr = m.lr;
    });
  else if (m.type === 'model' && m.arch in ARCHS) void serial('making the model', () => newModel(m.arch));
  else if (m.type === 'predict') void serial('predicting', () => predictDrawing(m.pixels));
  else if (m.type === 'save') void serial('saving', save);
  else if (m.type === 'onnx') void serial('exporting to ONNX', exportOnnx);
  else if (m.type === 'load') void serial('loading the model', () => load(m.bytes, m.name));
};
