import { describe, it } from 'vitest';
import { runConformance } from '@neurone/core/testing';
import { cpu } from '../src/index';

runConformance('cpu float64', () => cpu({ dtype: 'float64' }), { describe, it });
runConformance('cpu float32', () => cpu({ dtype: 'float32' }), { describe, it });
