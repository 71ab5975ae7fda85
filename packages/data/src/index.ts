/**
 * @neurone/data: IDX reader, MNIST and Fashion-MNIST loaders, one-hot, batching, splits and
 * normalisation. This entry targets Node (it re-exports the file readers of ./node and the
 * dataset loaders of ./datasets); `@neurone/data/browser` holds everything that does not touch
 * the file system. The datasets themselves are not dependencies: see loadMnist and
 * loadFashionMnist for what to install.
 */
export * from './browser';
export { readIdx } from './node';
export { loadMnist, loadFashionMnist, FASHION_MNIST_SYSTEM_DIR } from './datasets';
export type { FashionLoadOptions, IdxLoadOptions } from './datasets';
