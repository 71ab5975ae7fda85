import type { Tensor } from './tensor';

/** The one test for a tensor, of this copy of core or of its other build (ESM / CommonJS): by shape, no import of the class. */
export function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'dataId' in v && 'backend' in v && typeof (v as Tensor).data === 'function';
}
