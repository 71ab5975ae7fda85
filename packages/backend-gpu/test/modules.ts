/** What the module conformance suite runs: the real classes of the library packages. */
import type { ModuleConformanceOptions, ModuleLibrary } from '@neurone/core/testing';
import * as layers from '@neurone/layers';
import * as losses from '@neurone/losses';
import * as optim from '@neurone/optim';
import { Autoencoder } from '@neurone/autoencoder';

export const MODULE_LIBRARY: ModuleLibrary = { ...layers, ...losses, ...optim, Autoencoder };

/**
 * float32 against float64 through a few ops: each op rounds to float32 (relative 6e-8), GPUs'
 * exp/log/tanh are a few ulp off (see tolerances.ts), and a module chains up to ~10 ops with sums
 * of up to 8 terms, so 1e-5 relative (and 1e-5 of the largest value, absolute) leaves a wide
 * margin over what float32 can reach while still catching any wrong formula or index.
 */
export const MODULE_TOLERANCE: ModuleConformanceOptions = { rtol: 1e-5, atol: 1e-5 };
