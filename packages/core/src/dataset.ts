import type { Shape } from './shape';

/** Values held in host memory with their shape (a batch is uploaded to a backend when needed). */
export interface HostTensor {
  data: Float32Array | Float64Array | Uint8Array;
  shape: Shape;
}

/**
 * A supervised dataset in host memory; axis 0 of x and y counts the samples.
 * y holds class indices ([n]) or targets ([n, ...]).
 */
export interface Dataset {
  x: HostTensor;
  y: HostTensor;
}
