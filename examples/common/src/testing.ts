/**
 * Test helpers for the example apps: run an app as a user would (a child `node` process with tsx,
 * in the app's folder, as its `start` script does) and check the command-line contract.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { expect } from 'vitest';

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --conditions=@neurone/source --import tsx src/main.ts ...args` in `appDir`. The
 * timeout only guards against a hung app (a loaded CI machine runs a short training several times
 * slower than a quiet one); a killed run resolves with code null and says so on stderr.
 */
export function runAppProcess(appDir: string, args: readonly string[], timeoutMs = 600_000): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
    delete env.INIT_CWD;
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--conditions=@neurone/source', '--import', 'tsx', 'src/main.ts', ...args], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      stderr += `runAppProcess: killed after ${timeoutMs / 1000} s (hang guard)\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temporary folder and a function that removes it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Width and height of a PNG file, decoding it whole (throws if it is not a valid PNG). */
export function pngSize(path: string): [number, number] {
  const png = PNG.sync.read(readFileSync(path));
  return [png.width, png.height];
}

/** The images embedded in an SVG as PNG data URIs, decoded (throws if one is not a valid PNG). */
export function embeddedPngSizes(svg: string): [number, number][] {
  return [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((m) => {
    const png = PNG.sync.read(Buffer.from(m[1]!, 'base64'));
    return [png.width, png.height];
  });
}

/**
 * The `--help` contract: exit code 0, nothing on stderr, the usage line of `pnpm <name>`, every
 * option in `options`, and `defaultLine` (one option shown with its default).
 */
export async function expectHelp(appDir: string, args: readonly string[], name: string, options: readonly string[], defaultLine: RegExp): Promise<void> {
  const r = await runAppProcess(appDir, args);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(new RegExp(`^Usage: pnpm ${name} \\[options\\]`));
  for (const opt of options) expect(r.stdout).toContain(opt);
  expect(r.stdout).toMatch(defaultLine);
}

/** The bad-option contract: exit code 2, exactly `message` as the one line on stderr, nothing on stdout (no work done). */
export async function expectUsageError(appDir: string, args: readonly string[], message: string): Promise<void> {
  const r = await runAppProcess(appDir, args);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`${message}\n`);
  expect(r.stdout).toBe('');
}
