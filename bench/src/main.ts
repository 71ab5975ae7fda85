/**
 * Runs bench/README.md's workloads, ours and TF.js's side by side, alternating, on the same data,
 * and prints ratios. `pnpm --filter @neurone/bench bench [w1|w2|w3|w4|w5|all] [--peers cpu,wasm]`.
 */
import { parseArgs } from 'node:util';
import { w1 } from './w1';
import { w2 } from './w2';
import { w3 } from './w3';
import { w4 } from './w4';
import { w5 } from './w5';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { peers: { type: 'string', default: 'wasm,cpu' }, epochs: { type: 'string', default: '1' } },
});
const peers = values.peers.split(',').filter(Boolean) as ('cpu' | 'wasm')[];
const which = positionals.length ? positionals : ['w1'];
const all = which.includes('all');
if (all || which.includes('w1')) await w1(peers);
if (all || which.includes('w2')) await w2(peers, Number(values.epochs));
if (all || which.includes('w3')) await w3(peers);
if (all || which.includes('w4')) await w4(peers, Number(values.epochs));
if (all || which.includes('w5')) await w5();
console.log(`peak resident memory of this run: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
