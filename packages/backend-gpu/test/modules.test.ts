/**
 * The module conformance suite of @neurone/core/testing: the real layers, losses and optimizer
 * steps on the GPU modes that run in Node (webgpu through Dawn, webasm) — cpu() float32 and float64
 * run it in @neurone/autoencoder's tests, which need no GPU —
 * against the float64 reference kernels of core/testing (independent code: a bug shared by cpu()'s
 * float32 and float64 paths would not hide). Chromium's WebGL2 and WebGPU run it in browser.test.ts,
 * headless-gl in headlessgl.test.ts.
 */
import { describe, it } from 'vitest';
import { Backend } from '@neurone/core';
import { referenceKernels, runModuleConformance } from '@neurone/core/testing';
import { gpu } from '../src/index';
import { MODULE_LIBRARY, MODULE_TOLERANCE } from './modules';
import { requireMode } from './helpers';

requireMode('webgpu');
requireMode('webasm');

const reference = () => new Backend(referenceKernels());
runModuleConformance('gpu(webgpu) in Node (Dawn)', () => gpu({ mode: 'webgpu' }), reference, MODULE_LIBRARY, { describe, it }, MODULE_TOLERANCE);
runModuleConformance('gpu(webasm) in Node', () => gpu({ mode: 'webasm' }), reference, MODULE_LIBRARY, { describe, it }, MODULE_TOLERANCE);
