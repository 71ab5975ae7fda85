import { buildSync } from 'esbuild';
import { join } from 'node:path';

/** Bundles saver.ts (with core's sources) into one plain .mjs in `dir`: a child process then starts in milliseconds. */
export function bundleSaver(dir: string): string {
  const outfile = join(dir, 'saver.mjs');
  buildSync({ entryPoints: [join(import.meta.dirname, 'saver.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' });
  return outfile;
}
