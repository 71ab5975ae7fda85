export * from './plot';
export * from './cli';
export { backendFromFlag, backendOption, checkBackendFlag } from './backend';
export { lossValue } from './loss';
