/** The messages between the page (src/main.ts) and the training worker (src/worker.ts). */

/** Where the model computes: the CPU backend (WebAssembly GEMM) or a gpu.js mode. */
export type BackendKind = 'cpu' | 'webgl2' | 'webgpu';
export const BACKENDS: readonly BackendKind[] = ['cpu', 'webgl2', 'webgpu'];

/** The classifier: the course's MLP, or a small CNN on 28×28×1 images. */
export type Arch = 'mlp' | 'cnn';
export const ARCHS: Record<Arch, string> = {
  mlp: 'MLP 784 → 128 → TanH → 10',
  cnn: 'CNN Conv2D(5, 1→8) → ReLU → MaxPool 2 → Linear(1152, 10)',
};

export type ToWorker =
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'backend'; kind: BackendKind }
  | { type: 'lr'; lr: number }
  /** A fresh classifier of that architecture (and a fresh autoencoder): training starts over. */
  | { type: 'model'; arch: Arch }
  /** A preprocessed drawing (784 values in [0, 1]): classify it and reconstruct it. */
  | { type: 'predict'; pixels: Float32Array }
  | { type: 'save' }
  /** The classifier as an ONNX file (`toOnnx`), for ONNX Runtime and the like. */
  | { type: 'onnx' }
  | { type: 'load'; bytes: Uint8Array; name: string };

export interface Step {
  step: number;
  epoch: number;
  loss: number;
  aeLoss: number;
}

export type FromWorker =
  /** `availability`: true, or why this browser cannot run that backend. */
  | { type: 'ready'; availability: Record<BackendKind, true | string>; train: number; test: number }
  | { type: 'steps'; steps: Step[]; samplesPerSec: number; backend: BackendKind }
  | { type: 'eval'; step: number; accuracy: number; loss: number; latent: Float32Array; labels: Float32Array; ms: number }
  /**
   * `moved`, after a switch: the optimizers' step count and the sum of squares of their state
   * tensors read before and after the move (equal when the state moved intact).
   */
  | { type: 'state'; running: boolean; backend: BackendKind; note?: string; moved?: { from: BackendKind; optimizerStep: number; before: number; after: number } }
  | { type: 'prediction'; probs: number[]; reconstruction: Float32Array; code: [number, number] }
  | { type: 'saved'; bytes: Uint8Array }
  | { type: 'onnx'; bytes: Uint8Array }
  | { type: 'model'; arch: Arch }
  | { type: 'loaded'; name: string; step: number; arch: Arch }
  /** `where`: what was being done ('training', 'load', 'backend', …); the page shows it. */
  | { type: 'error'; where: string; message: string };
