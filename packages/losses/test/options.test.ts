import { describe, expect, it } from 'vitest';
import { ValueError } from '@neurone/core';
import { BCELoss, CrossEntropyLoss, MSELoss } from '../src/index';

describe('loss options', () => {
  it('refuse unknown keys, listing the valid ones', () => {
    expect(() => new MSELoss({ reduce: 'sum' } as never)).toThrow(ValueError);
    expect(() => new CrossEntropyLoss({ ignore_index: -100 } as never)).toThrow(/CrossEntropyLoss: unknown option 'ignore_index' \(did you mean 'ignoreIndex'\?\); valid options: reduction, weight, labelSmoothing, ignoreIndex/);
    expect(() => new CrossEntropyLoss({ labelSmoothing: 1 })).toThrow(/labelSmoothing must be a number in \[0, 1\)/);
    expect(() => new CrossEntropyLoss({ weight: 'x' } as never)).toThrow(/weight must be one number per class/);
    expect(() => new CrossEntropyLoss({ ignoreIndex: 0.5 })).toThrow(/ignoreIndex must be an integer/);
    expect(() => new BCELoss({ reduction: 'sum', weight: 2 } as never)).toThrow(/BCELoss: unknown option 'weight'/);
    expect(new MSELoss({ reduction: 'sum' }).reduction).toBe('sum');
  });
});
