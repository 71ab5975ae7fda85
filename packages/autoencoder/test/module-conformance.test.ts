/**
 * The module conformance suite of @neurone/core/testing on the CPU backend, float32 and float64,
 * against the float64 reference kernels of core/testing (independent code). It lives here, in a
 * package that needs no GPU and already depends on every library package; backend-gpu runs the
 * same catalogue on every GPU mode.
 */
import { describe, expect, it } from 'vitest';
import { Backend } from '@neurone/core';
import { referenceKernels, runModuleConformance } from '@neurone/core/testing';
import type { ModuleLibrary } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import * as layers from '@neurone/layers';
import * as losses from '@neurone/losses';
import * as optim from '@neurone/optim';
import { Autoencoder } from '../src/index';

const library: ModuleLibrary = { ...layers, ...losses, ...optim, Autoencoder };
const reference = () => new Backend(referenceKernels());
// float32: see backend-gpu/test/modules.ts for the 1e-5 budget; float64: round-off only
runModuleConformance('cpu(float32)', () => cpu(), reference, library, { describe, it }, { rtol: 1e-5, atol: 1e-5 });
runModuleConformance('cpu(float64)', () => cpu({ dtype: 'float64' }), reference, library, { describe, it }, { rtol: 1e-11, atol: 1e-12 });

describe('the catalogue needs every class it names', () => {
  it('removing any class from the library makes a case fail (the Autoencoder case included)', async () => {
    const { moduleCases } = await import('@neurone/core/testing');
    const tol = { rtol: 1e-11, atol: 1e-12 };
    const failing = async (lib: ModuleLibrary): Promise<string[]> => {
      const out: string[] = [];
      for (const c of moduleCases) await c.run(cpu({ dtype: 'float64' }), reference(), lib, tol).catch(() => out.push(c.name));
      return out;
    };
    expect(await failing(library)).toEqual([]);
    const named: (keyof ModuleLibrary)[] = ['Linear', 'TanH', 'Sigmoid', 'ReLU', 'Softmax', 'LogSoftmax', 'Flatten', 'Sequential', 'Conv1D', 'Conv2D', 'MaxPool1D', 'AvgPool1D', 'MaxPool2D', 'AvgPool2D', 'MSELoss', 'NLLLoss', 'CrossEntropyLoss', 'BCELoss', 'BCEWithLogitsLoss', 'SGD', 'Adam', 'Autoencoder'];
    for (const k of named) {
      const { [k]: _removed, ...rest } = library;
      expect(await failing(rest as ModuleLibrary), `without ${k}`).not.toEqual([]);
    }
    expect(await failing({ ...library, Autoencoder: undefined })).toContain('module Autoencoder.dense([8, 4, 2]) (tied weights)');
  }, 60_000);
});
