export { Linear } from './linear';
export type { LinearOptions } from './linear';
export { TanH, TanH as Tanh, Sigmoid, ReLU, LeakyReLU, ELU, GELU, Softmax, LogSoftmax, Flatten } from './activations';
export { Sequential } from './sequential';
export type { SequentialBackwardOptions } from './sequential';
export { Conv1D, Conv2D } from './conv';
export type { ConvOptions, Conv2DOptions } from './conv';
export { MaxPool1D, AvgPool1D, MaxPool2D, AvgPool2D } from './pool';
export { fromTorchConv, torchConvWeight } from './torch';
