import { afterAll, describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import type { Module, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { ELU, Flatten, GELU, LeakyReLU, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, TanH } from '../src/index';
import { rand, randAwayFromZero, gradcheckInto } from './helpers';

const be = cpu({ dtype: 'float64' });
const results: Record<string, number> = {};

const check = (name: string, m: Module, x: Tensor): void => gradcheckInto(results, name, m, x);

afterAll(() => {
  console.log(`gradcheckModule max relative errors (float64):\n${Object.entries(results)
    .map(([k, v]) => `  ${k.padEnd(48)} ${v.toExponential(2)}`)
    .join('\n')}`);
});

describe('gradcheckModule (float64, maxRelError ≤ 1e-6)', () => {
  const rng = () => new RNG(7);
  for (const [inF, outF] of [[5, 3], [3, 7]] as const) {
    for (const batch of [1, 4]) {
      for (const bias of [true, false]) {
        const name = `Linear(${inF}, ${outF}) bias=${bias} batch=${batch}`;
        it(name, () => check(name, new Linear(inF, outF, { backend: be, bias, rng: rng() }), rand(be, [batch, inF], 11)));
      }
    }
  }

  for (const batch of [1, 4]) {
    it(`Linear tied to another (5→3 and back 3→5) batch=${batch}`, () => {
      // the gradient of the shared weight sums both uses: gradcheck over the pair checks exactly that
      const enc = new Linear(5, 3, { backend: be, rng: rng() });
      const pair = new Sequential(enc, new TanH(), new Linear(3, 5, { tiedTo: enc, rng: rng() }));
      expect(pair.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.bias']);
      check(`Linear 5→3 + tied 3→5 batch=${batch}`, pair, rand(be, [batch, 5], 13));
    });
  }
  it('a tied Linear must map the other way round', () => {
    const enc = new Linear(5, 3, { backend: be });
    expect(() => new Linear(5, 3, { tiedTo: enc })).toThrow(/Linear\(5, 3\): cannot tie to Linear\(5, 3\): a tied layer maps 3 → 5/);
  });

  for (const batch of [1, 4]) {
    it(`TanH batch=${batch}`, () => check(`TanH [${batch}, 6]`, new TanH(), rand(be, [batch, 6], 2, -2, 2)));
    it(`Sigmoid batch=${batch}`, () => check(`Sigmoid [${batch}, 6]`, new Sigmoid(), rand(be, [batch, 6], 3, -3, 3)));
    it(`ReLU batch=${batch}`, () => check(`ReLU [${batch}, 6] (|x| ≥ 0.2)`, new ReLU(), randAwayFromZero(be, [batch, 6], 4)));
    it(`Softmax batch=${batch}`, () => check(`Softmax [${batch}, 5]`, new Softmax(), rand(be, [batch, 5], 5, -2, 2)));
    it(`LogSoftmax batch=${batch}`, () => check(`LogSoftmax [${batch}, 5]`, new LogSoftmax(), rand(be, [batch, 5], 6, -2, 2)));
    it(`LeakyReLU(0.2) batch=${batch}`, () => check(`LeakyReLU(0.2) [${batch}, 6] (|x| ≥ 0.2)`, new LeakyReLU(0.2), randAwayFromZero(be, [batch, 6], 14)));
    it(`ELU(1.5) batch=${batch}`, () => check(`ELU(1.5) [${batch}, 6] (|x| ≥ 0.2)`, new ELU({ alpha: 1.5 }), randAwayFromZero(be, [batch, 6], 15)));
    it(`GELU batch=${batch}`, () => check(`GELU [${batch}, 6]`, new GELU(), rand(be, [batch, 6], 16, -4, 4)));
    it(`GELU tanh batch=${batch}`, () => check(`GELU(approximate=tanh) [${batch}, 6]`, new GELU({ approximate: 'tanh' }), rand(be, [batch, 6], 17, -4, 4)));
  }

  it('Softmax and LogSoftmax over the last axis of a 3-D input', () => {
    check('Softmax [2, 3, 4]', new Softmax(), rand(be, [2, 3, 4], 8, -2, 2));
    check('LogSoftmax [2, 3, 4]', new LogSoftmax(), rand(be, [2, 3, 4], 9, -2, 2));
  });

  it('Flatten', () => check('Flatten [2, 3, 4]', new Flatten(), rand(be, [2, 3, 4], 10)));

  for (const batch of [1, 4]) {
    it(`Sequential of Linear/TanH/Sigmoid/LogSoftmax, batch=${batch}`, () => {
      const r = new RNG(3);
      const m = new Sequential(
        new Linear(4, 6, { backend: be, rng: r }),
        new TanH(),
        new Linear(6, 5, { backend: be, rng: r }),
        new Sigmoid(),
        new Linear(5, 3, { backend: be, rng: r, bias: false }),
        new LogSoftmax(),
      );
      check(`Sequential(4→6 TanH 6→5 Sigmoid 5→3 LogSoftmax) b=${batch}`, m, rand(be, [batch, 4], 12));
    });
  }

  it('Sequential with ReLU, Softmax and Flatten', () => {
    const r = new RNG(4);
    const m = new Sequential([
      new Flatten(),
      new Linear(6, 7, { backend: be, rng: r }),
      new ReLU(),
      new Linear(7, 4, { backend: be, rng: r }),
      new Softmax(),
    ]);
    check('Sequential(Flatten 6→7 ReLU 7→4 Softmax) [3, 2, 3]', m, rand(be, [3, 2, 3], 13));
  });

  it('nested Sequential', () => {
    const r = new RNG(5);
    const inner = new Sequential(new Linear(3, 4, { backend: be, rng: r }), new TanH());
    const m = new Sequential(inner, new Linear(4, 2, { backend: be, rng: r }));
    check('Sequential(Sequential(3→4 TanH) 4→2)', m, rand(be, [2, 3], 14));
    expect(Object.keys(m.stateDict())).toEqual(['0.0.weight', '0.0.bias', '1.weight', '1.bias']);
  });
});
