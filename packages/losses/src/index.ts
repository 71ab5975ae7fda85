export { MSELoss } from './mse';
export { NLLLoss, CrossEntropyLoss } from './classification';
export type { CrossEntropyLossOptions } from './classification';
export { BCELoss, BCEWithLogitsLoss } from './binary';
export { BaseLoss } from './common';
export type { Reduction, LossOptions } from './common';
