/** The page: the controls, the charts, the drawing pad and the autoencoder panel; training runs in src/worker.ts. */
import { ARCHS, BACKENDS } from './protocol';
import type { Arch, BackendKind, FromWorker, ToWorker } from './protocol';
import { SIDE, toMnist } from './preprocess';
import type { Charts } from './charts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const COLORS = ['#e6194b', '#3cb44b', '#c9a800', '#4363d8', '#f58231', '#911eb4', '#1fb5b5', '#d6309b', '#7a9a01', '#7b5b3a'];
const LABELS: Record<BackendKind, string> = { cpu: 'CPU (WebAssembly)', webgl2: 'WebGL2 (gpu.js)', webgpu: 'WebGPU (gpu.js)' };

/** What the page shows, also readable by the end-to-end test as `window.webState`. */
const state = {
  ready: false,
  running: false,
  backend: 'cpu' as BackendKind,
  arch: 'mlp' as Arch,
  availability: {} as Record<BackendKind, true | string>,
  steps: [] as { step: number; loss: number; aeLoss: number; backend: BackendKind }[],
  evals: [] as { step: number; accuracy: number; ms: number; backend: BackendKind }[],
  speed: {} as Partial<Record<BackendKind, number>>,
  errors: [] as string[],
  prediction: null as null | { digit: number; probs: number[] },
  loaded: 0,
  moves: [] as NonNullable<Extract<FromWorker, { type: 'state' }>['moved']>[],
};
(window as unknown as { webState: typeof state }).webState = state;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

function showError(text: string): void {
  state.errors.push(text);
  $('error').hidden = false;
  $('error').textContent = text;
}
worker.onerror = (e) => showError(`the training worker failed: ${e.message}`);

// ---- backends -----------------------------------------------------------------------------------
function renderBackends(): void {
  const box = $('backends');
  for (const k of BACKENDS) {
    const ok = state.availability[k] === true;
    const label = document.createElement('label');
    label.innerHTML = `<input type="radio" name="backend" value="${k}" ${k === state.backend ? 'checked' : ''} ${ok ? '' : 'disabled'}> ${LABELS[k]} <span class="why"></span>`;
    label.querySelector('.why')!.textContent = ok ? '' : `— unavailable: ${String(state.availability[k])}`;
    label.querySelector('input')!.addEventListener('change', () => send({ type: 'backend', kind: k }));
    box.append(label);
  }
  if (BACKENDS.every((k) => k === 'cpu' || state.availability[k] !== true)) {
    $('backend-note').textContent = 'No GPU mode is available in this browser: training runs on the CPU backend.';
  }
}

// ---- charts (uPlot, loaded on first use) --------------------------------------------------------
let charts: Charts | null = null;
let chartsLoading = false;
let redraw = 0;
function updateCharts(): void {
  if (!charts) {
    if (!chartsLoading) {
      chartsLoading = true;
      void import('./charts').then((m) => {
        charts = m.makeCharts($('loss-chart'), $('acc-chart'));
        updateCharts();
      }, (e: Error) => showError(`the charts failed to load: ${e.message}`));
    }
    return;
  }
  cancelAnimationFrame(redraw);
  redraw = requestAnimationFrame(() => {
    charts!.update(state.steps, state.evals);
  });
}

// ---- the latent map ------------------------------------------------------------------------------
let latent: { codes: Float32Array; labels: Float32Array } | null = null;
let drawnCode: [number, number] | null = null;
function drawLatent(): void {
  const c = $<HTMLCanvasElement>('latent');
  const g = c.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  if (!latent) return;
  const { codes, labels } = latent;
  const xs = codes.filter((_, i) => i % 2 === 0);
  const ys = codes.filter((_, i) => i % 2 === 1);
  const [xmin, xmax, ymin, ymax] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = (v: number): number => 10 + ((v - xmin) / (xmax - xmin || 1)) * (c.width - 20);
  const py = (v: number): number => c.height - 10 - ((v - ymin) / (ymax - ymin || 1)) * (c.height - 20);
  for (let i = 0; i < labels.length; i++) {
    g.fillStyle = COLORS[labels[i]!]!;
    g.fillRect(px(xs[i]!) - 1.5, py(ys[i]!) - 1.5, 3, 3);
  }
  if (drawnCode) {
    g.strokeStyle = '#000';
    g.lineWidth = 3;
    g.beginPath();
    g.arc(px(drawnCode[0]), py(drawnCode[1]), 8, 0, 2 * Math.PI);
    g.stroke();
  }
}
$('legend').innerHTML = COLORS.map((c, d) => `<span style="background:${c}">${d}</span>`).join('') + ' ○ your drawing';

function paint28(id: string, pixels: ArrayLike<number>): void {
  const g = $<HTMLCanvasElement>(id).getContext('2d')!;
  const img = g.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[i]!)) * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  g.putImageData(img, 0, 0);
}

// ---- the worker's messages -----------------------------------------------------------------------
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      state.ready = true;
      state.availability = m.availability;
      renderBackends();
      $('status').textContent = `${m.train.toLocaleString('en')} training images, ${m.test.toLocaleString('en')} test images; a 784 → 128 → 2 autoencoder beside the classifier`;
      for (const id of ['toggle', 'save', 'onnx']) $<HTMLButtonElement>(id).disabled = false;
      break;
    case 'steps':
      for (const s of m.steps) state.steps.push({ ...s, backend: m.backend });
      state.speed[m.backend] = m.samplesPerSec;
      $('step').textContent = String(m.steps.at(-1)!.step);
      $('epoch').textContent = String(m.steps.at(-1)!.epoch);
      $('speed').textContent = BACKENDS.filter((k) => state.speed[k]).map((k) => `${k} ${Math.round(state.speed[k]!)}`).join(' · ');
      updateCharts();
      break;
    case 'eval':
      state.evals.push({ step: m.step, accuracy: m.accuracy, ms: m.ms, backend: state.backend });
      $('accuracy').textContent = `${(100 * m.accuracy).toFixed(1)} %`;
      latent = { codes: m.latent, labels: m.labels };
      drawLatent();
      updateCharts();
      break;
    case 'state':
      state.running = m.running;
      state.backend = m.backend;
      $('toggle').textContent = m.running ? 'Pause' : state.steps.length ? 'Resume' : 'Start';
      for (const input of document.querySelectorAll<HTMLInputElement>('#backends input')) input.checked = input.value === m.backend;
      if (m.note) $('backend-note').textContent = m.note;
      if (m.moved) state.moves.push(m.moved);
      break;
    case 'prediction': {
      const digit = m.probs.indexOf(Math.max(...m.probs));
      state.prediction = { digit, probs: m.probs };
      $('predicted').textContent = String(digit);
      $('probs').innerHTML = m.probs.map((p, d) => `<li data-digit="${d}"><b>${d}</b><span class="bar" style="width:${(p * 150).toFixed(1)}px"></span>${(100 * p).toFixed(1)} %</li>`).join('');
      paint28('recon', m.reconstruction);
      drawnCode = m.code;
      drawLatent();
      break;
    }
    case 'saved':
    case 'onnx': {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      a.download = m.type === 'saved' ? 'neurone-mnist.safetensors' : 'neurone-mnist.onnx';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      break;
    }
    case 'model':
      state.arch = $<HTMLSelectElement>('arch').value = m.arch as Arch;
      state.steps.length = state.evals.length = 0;
      updateCharts();
      break;
    case 'loaded':
      state.loaded++;
      state.arch = $<HTMLSelectElement>('arch').value = m.arch as Arch;
      $('backend-note').textContent = `loaded ${m.name} (trained ${m.step} steps)`;
      predict();
      break;
    case 'error':
      showError(`Error while ${m.where}: ${m.message}`);
      if (m.where === 'loading the model') predict(); // the model kept, on the drawing
      break;
  }
};

// ---- controls ----------------------------------------------------------------------------------
$('toggle').addEventListener('click', () => send({ type: state.running ? 'pause' : 'start' }));
$<HTMLInputElement>('lr').addEventListener('change', (e) => send({ type: 'lr', lr: Number((e.target as HTMLInputElement).value) }));
$('save').addEventListener('click', () => send({ type: 'save' }));
$('onnx').addEventListener('click', () => send({ type: 'onnx' }));
$('arch').innerHTML = Object.entries(ARCHS).map(([k, v]) => `<option value="${k}">${v}</option>`).join('');
$<HTMLSelectElement>('arch').addEventListener('change', (e) => send({ type: 'model', arch: (e.target as HTMLSelectElement).value as Arch }));
$<HTMLInputElement>('load').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  input.value = '';
  send({ type: 'load', bytes, name: file.name }, [bytes.buffer]);
});

// ---- the drawing pad -----------------------------------------------------------------------------
const pad = $<HTMLCanvasElement>('pad');
const pen = pad.getContext('2d', { willReadFrequently: true })!;
let drawing = false;
let inFlight = false;
let pending = false;
function clearPad(): void {
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
/** Preprocesses the drawing and asks the worker for its class and reconstruction (one request at a time). */
function predict(): void {
  if (inFlight) return void (pending = true);
  const rgba = pen.getImageData(0, 0, pad.width, pad.height).data;
  const ink = new Float32Array(pad.width * pad.height);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4]! / 255;
  const pixels = toMnist(ink, pad.width, pad.height);
  paint28('seen', pixels);
  if (!pixels.some((v) => v > 0)) return;
  inFlight = true;
  send({ type: 'predict', pixels }, [pixels.buffer]);
}
worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
  if (e.data.type !== 'prediction' && !(e.data.type === 'error' && e.data.where === 'predicting')) return;
  inFlight = false;
  if (pending) {
    pending = false;
    predict();
  }
});
const at = (e: PointerEvent): [number, number] => {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
};
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pen.strokeStyle = '#fff';
  pen.lineWidth = 22;
  pen.lineCap = pen.lineJoin = 'round';
  pen.beginPath();
  pen.moveTo(...at(e));
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  pen.lineTo(...at(e));
  pen.stroke();
  predict();
});
for (const ev of ['pointerup', 'pointerleave'] as const) {
  pad.addEventListener(ev, () => {
    if (drawing) predict();
    drawing = false;
  });
}
$('clear').addEventListener('click', () => {
  clearPad();
  paint28('seen', new Float32Array(SIDE * SIDE));
  state.prediction = null;
  $('predicted').textContent = '–';
  $('probs').innerHTML = '';
  drawnCode = null;
  drawLatent();
});
drawLatent();
