// The 50-kill loop of issue 21, run by hand (too long for CI): `node packages/core/test/faults/kill-loop.mjs [kills] [MiB]`.
// A child saves checkpoints of [MiB] MiB over one file in a loop and is killed with SIGKILL at a random point;
// after each kill the file must load whole (saver.ts: every weight equals the epoch). Then one more save by a
// fresh process must leave no temporary behind. Prints what it found as JSON.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const kills = Number(process.argv[2] ?? 50);
const floats = Number(process.argv[3] ?? 16) * 2 ** 18;
const dir = mkdtempSync(join(tmpdir(), 'neurone-kill-loop-'));
for (const f of ['saver', 'whole']) {
  buildSync({ entryPoints: [join(import.meta.dirname, `${f}.ts`)], bundle: true, platform: 'node', format: 'esm', outfile: join(dir, `${f}.mjs`), logLevel: 'error' });
}
const { loadWhole } = await import(join(dir, 'whole.mjs'));
const path = join(dir, 'ck.safetensors');
const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const run = (args) => spawnSync(process.execPath, [join(dir, 'saver.mjs'), path, ...args], { encoding: 'utf8' });
if (run(['0', '1', String(floats)]).status !== 0) throw new Error('the first save failed');

let torn = 0, maxTemps = 0, maxTempBytes = 0, killedMidSave = 0;
const epochs = new Set();
for (let k = 1; k <= kills; k++) {
  const child = spawn(process.execPath, [join(dir, 'saver.mjs'), path, String(k * 1000), '1000', String(floats)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r)); // exited and reaped
  await new Promise((r) => child.stdout.once('data', r)); // one save done: the child is in its loop
  await new Promise((r) => setTimeout(r, Math.random() * 150));
  child.kill('SIGKILL');
  await exited;
  try {
    epochs.add(await loadWhole(path));
  } catch (e) {
    torn++;
    console.error(e.message);
  }
  const t = temps();
  if (t.length > maxTemps) maxTemps = t.length;
  const bytes = t.reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  if (bytes > maxTempBytes) maxTempBytes = bytes;
  if (t.length) killedMidSave++;
}
const before = temps().length;
const last = run(['99999', '1', String(floats)]);
const after = temps();
console.log(JSON.stringify({
  kills, mibPerSave: floats / 2 ** 18, tornLoads: torn, wholeLoads: kills - torn, distinctEpochsSeen: epochs.size,
  killsThatLeftATemporary: killedMidSave, mostTemporariesAtOnce: maxTemps, mostTemporaryBytes: maxTempBytes,
  temporariesBeforeNextSave: before, nextSave: last.stdout.trim(), temporariesAfterNextSave: after.length, finalEpoch: await loadWhole(path),
}, null, 1));
rmSync(dir, { recursive: true, force: true });
process.exitCode = torn || after.length || last.status ? 1 : 0;
