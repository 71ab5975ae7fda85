export * from './plot';
export { backendFromFlag } from './backend';
