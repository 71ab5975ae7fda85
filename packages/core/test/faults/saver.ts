/**
 * Child process of the fault-injection suite (faults.test.ts, kill-loop.ts): saves `count`
 * checkpoints over `path`, checkpoint i holding epoch i and `floats` weights all equal to i, so
 * a reader can tell a whole file from a mixed or torn one. Prints `saved i` after each save,
 * `DataError: …` (exit code 3) when a save throws.
 */
import { save } from '../../src/node';

const [path, first = '1', count = '1', floats = '262144'] = process.argv.slice(2);
const n = Number(floats);
try {
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    await save(path!, { model: { w: { shape: [n], data: new Float32Array(n).fill(i) } }, epoch: i });
    process.stdout.write(`saved ${i}\n`);
  }
} catch (e) {
  process.stdout.write(`${(e as Error).constructor.name}: ${(e as Error).message}\n`);
  process.exitCode = 3;
}
