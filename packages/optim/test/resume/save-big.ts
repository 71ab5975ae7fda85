/**
 * Child process of the atomic-write test: saves a ~1 MiB checkpoint over `path` (run under
 * `ulimit -f`, so the write fails midway). Prints the error message when save throws.
 */
import { RNG } from '@neurone/core';
import { save } from '@neurone/core/node';
import { cpu } from '@neurone/backend-cpu';
import { Linear } from '@neurone/layers';

const path = process.argv[2]!;
const net = new Linear(512, 512, { backend: cpu(), rng: new RNG(1) });
try {
  await save(path, { model: net, epoch: 9 });
  console.log('saved');
} catch (e) {
  console.log(`${(e as Error).constructor.name}: ${(e as Error).message}`);
  process.exitCode = 3;
}
