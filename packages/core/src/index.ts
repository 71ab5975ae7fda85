export { Backend } from './backend';
export type { MemoryInfo } from './backend';
export { UNARY_OPS, BINARY_OPS, ACTIVATION_GRADS, POOL_KINDS } from './kernels';
export type { Kernels, KernelTensor, MatmulDims, AxisSplit, UnaryOp, BinaryOp, ActivationGrad, PoolKind, Window2D, ConvGeometry } from './kernels';
export { convOutputLength, pair, checkWindow, windowGeometry } from './conv';
export { Tensor } from './tensor';
export type { DType, TypedArray } from './tensor';
export { checkClassIndices } from './labels';
export { Module, Parameter } from './module';
export type { Loss, Optimizer, LoadStateDictResult, StateValue } from './module';
export {
  NeuroneError,
  ShapeError,
  BackendMismatchError,
  DisposedError,
  ValueError,
  DataError,
  BackendError,
} from './errors';
export type { Shape } from './shape';
export {
  checkShape,
  sizeOf,
  shapesEqual,
  broadcastShapes,
  stridesOf,
  broadcastStrides,
  normAxis,
  normAxes,
  splitAxis,
  reducedShape,
  matmulShape,
} from './shape';
export { tidy, keep, dispose } from './scope';
export { RNG, manualSeed, defaultRng } from './random';
export { init, fans, gain } from './init';
export type { Initializer, Nonlinearity } from './init';
export { setBackend, getBackend, resolveBackend } from './registry';
export { toSafetensors, encodeSafetensors, decodeSafetensors, fromSafetensors } from './serialize';
export type { RawTensor } from './serialize';
export type { Dataset, HostTensor } from './dataset';
