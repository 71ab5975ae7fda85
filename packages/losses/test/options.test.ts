import { describe, expect, it } from 'vitest';
import { ValueError } from '@neurone/core';
import { BCELoss, CrossEntropyLoss, MSELoss } from '../src/index';

describe('loss options', () => {
  it('refuse unknown keys, listing the valid ones', () => {
    expect(() => new MSELoss({ reduce: 'sum' } as never)).toThrow(ValueError);
    expect(() => new CrossEntropyLoss({ ignoreIndex: -100 } as never)).toThrow(/CrossEntropyLoss: unknown option 'ignoreIndex'; valid options: reduction/);
    expect(() => new BCELoss({ reduction: 'sum', weight: 2 } as never)).toThrow(/BCELoss: unknown option 'weight'/);
    expect(new MSELoss({ reduction: 'sum' }).reduction).toBe('sum');
  });
});
