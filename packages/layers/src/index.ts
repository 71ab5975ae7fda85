export { Linear } from './linear';
export type { LinearOptions } from './linear';
export { TanH, TanH as Tanh, Sigmoid, ReLU, Softmax, LogSoftmax, Flatten } from './activations';
export { Sequential } from './sequential';
export type { SequentialBackwardOptions } from './sequential';
