import { describe, expectTypeOf, it } from 'vitest';
import type { IdxLoadOptions, loadMnist } from '../src/index';

type X<O extends IdxLoadOptions> = ReturnType<typeof loadMnist<O>>['train']['x'];

describe('loadMnist types (checked by tsc)', () => {
  it('float32 by default or with bytes false, bytes with bytes true, either for a flag known at run time', () => {
    expectTypeOf<X<Record<never, never>>['data']>().toEqualTypeOf<Float32Array>(); // loadMnist()'s default
    expectTypeOf<X<{ limit: number }>['data']>().toEqualTypeOf<Float32Array>();
    expectTypeOf<X<{ bytes: false }>['data']>().toEqualTypeOf<Float32Array>();
    expectTypeOf<X<{ bytes: true }>['data']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<X<{ bytes: true }>['scale']>().toEqualTypeOf<number>();
    expectTypeOf<X<IdxLoadOptions>['data']>().toEqualTypeOf<Float32Array | Uint8Array>();
  });
});
