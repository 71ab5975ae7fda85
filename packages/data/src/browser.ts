/**
 * The browser-safe part of @neurone/data: no node: imports. Parse IDX bytes you fetched yourself
 * with parseIdx, and batch, split, one-hot or normalise any in-memory dataset.
 */
export { parseIdx, isGzip } from './idx';
export type { IdxData, IdxDType, IdxArray } from './idx';
export {
  checkDataset,
  subset,
  take,
  oneHot,
  batches,
  Batches,
  trainValidationSplit,
  standardize,
  normalize,
  scale,
} from './dataset';
export type {
  FloatArray,
  FloatTensor,
  FloatDataset,
  Batch,
  BatchOptions,
  SplitOptions,
  Stats,
  StandardizeOptions,
  Transformed,
  Standardized,
} from './dataset';
export {
  FASHION_MNIST_CLASSES,
  IMAGE_SIDE,
  IMAGE_PIXELS,
  NUM_CLASSES,
  TRAIN_SIZE,
  TEST_SIZE,
  splitFromIdx,
  toImageDataset,
  parseFashionClassJson,
  fashionFromClasses,
} from './mnist';
export type { ImageDataset, ByteImageDataset, ImageSplits, LoadOptions, FashionClassImages } from './mnist';
