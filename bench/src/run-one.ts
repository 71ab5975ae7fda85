/**
 * Runs one workload on one library and prints its Result as JSON on the last line of stdout;
 * main.ts starts one process per library so that each one's peak resident memory is its own.
 *   run-one.ts WORKLOAD LIB_JSON EPOCHS
 */
import { w1Neurone, w1Tf } from './w1';
import { w2Neurone, w2Tf } from './w2';
import { w3Neurone, w3Tf } from './w3';
import { w4Neurone, w4Tf } from './w4';
import { w5Neurone } from './w5';
import type { Lib, Result } from './util';
import { fusedMultiplyAdd } from '@neurone/backend-cpu';

const [workload, libJson, epochsArg] = process.argv.slice(2);
const lib = JSON.parse(libJson!) as Lib;
const epochs = Number(epochsArg);

async function run(): Promise<Result> {
  if (lib.kind === 'neurone') {
    if (workload === 'w1') return w1Neurone(lib.threads);
    if (workload === 'w2') return w2Neurone(lib.threads, epochs, lib.forwardOnly);
    if (workload === 'w3') return w3Neurone(lib.threads);
    if (workload === 'w4') return w4Neurone(lib.threads, epochs);
    if (workload === 'w5') return w5Neurone(lib.threads);
  } else if (lib.kind === 'tfjs') {
    if (workload === 'w1') return w1Tf(lib.backend);
    if (workload === 'w2') return w2Tf(lib.backend, lib.backend === 'cpu' ? 1 : epochs); // TF.js cpu at ~800 samples/s: one epoch
    if (workload === 'w3') return w3Tf(lib.backend);
    if (workload === 'w4') return w4Tf(lib.backend);
  }
  return { error: `no ${workload} for ${lib.kind}` };
}

let result: Result;
try {
  result = await run();
} catch (e) {
  result = { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160) };
}
result.peakRssMB = process.resourceUsage().maxRSS / 1024;
if (lib.kind === 'neurone') result.fma = fusedMultiplyAdd();
console.log(JSON.stringify(result));
process.exit(0);
