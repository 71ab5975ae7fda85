import { describe, expect, it } from 'vitest';
import { ValueError } from '@neurone/core';
import { batches, loadFashionMnist, loadMnist, standardize, trainValidationSplit } from '../src/index';

const ds = { x: { data: new Float32Array(8), shape: [4, 2] }, y: { data: new Float32Array(4), shape: [4] } };

describe('unknown option names are refused with the valid ones listed', () => {
  it('loaders', () => {
    expect(() => loadFashionMnist({ train: true } as never)).toThrow(ValueError);
    expect(() => loadFashionMnist({ train: true } as never)).toThrow(/loadFashionMnist: unknown option 'train'; valid options: normalize, limit, bytes, dir/);
    expect(() => loadMnist({ normalise: false } as never)).toThrow(/unknown option 'normalise'/);
  });
  it('batches, trainValidationSplit, standardize', () => {
    expect(() => batches(ds, { batchSize: 2, drop_last: true } as never)).toThrow(/batches: unknown option 'drop_last' \(did you mean 'dropLast'\?\)/);
    expect(() => trainValidationSplit(ds, { validation: 1, seeds: 1 } as never)).toThrow(ValueError);
    expect(() => standardize(ds, { axis: 0 } as never)).toThrow(/standardize: unknown option 'axis'/);
  });
});
