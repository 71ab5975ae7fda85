export { Backend } from './backend';
export type { MemoryInfo } from './backend';
export { UNARY_OPS, PARAM_UNARY_OPS, BINARY_OPS, ACTIVATION_GRADS, POOL_KINDS } from './kernels';
export { erf, GELU_TANH, activationSlope } from './erf';
export type { Kernels, KernelTensor, MatmulDims, AxisSplit, UnaryOp, BinaryOp, ActivationGrad, PoolKind, Window2D, ConvGeometry, UpdateRule } from './kernels';
export { convOutputLength, pair, checkWindow, windowGeometry } from './conv';
export { im2col, col2im, pool, poolGrad } from './windows';
export { binaryCrossEntropy, BCE_LOG_FLOOR, BCE_GRAD_EPS, optimizerUpdate, updateChain } from './fused';
export { where, concat, stack } from './ops';
export { noGrad } from './autograd';
export { grad, valueAndGrad } from './grad';
export type { GradOptions } from './grad';
export { Tensor, isTensor } from './tensor';
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
  MemoryError,
  StateError,
} from './errors';
export type { Shape } from './shape';
export {
  MAX_TENSOR_SIZE,
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
export { tidy, keep, dispose, checkLeaks, LEAK_STEPS } from './scope';
export { checkOptions, checkTensorArg } from './options';
export type { OptionType } from './options';
export { RNG, manualSeed, defaultRng } from './random';
export type { RNGState } from './random';
export { init, fans, gain, fanInUniform } from './init';
export type { Initializer, Nonlinearity } from './init';
export { setBackend, getBackend, resolveBackend } from './registry';
export { toSafetensors, encodeSafetensors, decodeSafetensors, parseSafetensors, fromSafetensors, MAX_HEADER_BYTES } from './serialize';
export type { RawTensor, SafetensorsFile, SafetensorsDType } from './serialize';
export { toBytes, fromBytes, CHECKPOINT_VERSION } from './checkpoint';
export type { Checkpoint, CheckpointInput } from './checkpoint';
export type { Dataset, HostTensor } from './dataset';
export { valueProblem, FLOAT32_MAX } from './values';
export { checkAllocation, hostAvailableBytes } from './alloc';
export { gatherRows } from './dataset';
