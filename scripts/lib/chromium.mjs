/**
 * Headless Chromium for the browser checks and tests (Debian's `chromium`, driven by
 * playwright-core): one list of launch flags that work as root, a fresh profile per launch, and the
 * resident memory of every process the launch started (browser, GPU, renderers).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that work as root in a container; WebGPU (on SwiftShader) is asked for with --enable-unsafe-webgpu. */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium with a fresh profile. `flags` are added to CHROMIUM_FLAGS; `options` go to
 * playwright's launchPersistentContext. `close()` closes it and removes the profile.
 */
export async function launchChromium({ flags = [], prefix = 'neurone-chromium-', ...options } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`headless Chromium not found at ${CHROMIUM}: install Debian's package with 'apt-get install -y chromium' (or set CHROMIUM_PATH)`);
  }
  const profile = mkdtempSync(join(tmpdir(), prefix));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...flags], ...options });
  return {
    context,
    profile,
    rss: () => chromiumRss(profile),
    rssByType: () => chromiumRss(profile, true),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Bytes resident in every process of the Chromium launched on `profile` (Linux /proc; 0
 * elsewhere); with `byType`, an object of bytes per process type (browser, renderer, gpu-process,
 * utility, …).
 */
export function chromiumRss(profile, byType = false) {
  if (!existsSync('/proc/self/status')) return byType ? {} : 0;
  const procs = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
      procs.push({ pid, ppid, type, root: cmd.includes(profile), bytes: rss ? Number(rss[1]) * 1024 : 0 });
    } catch {
      // the process ended while we looked
    }
  }
  const ours = new Set(procs.filter((p) => p.root).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!ours.has(p.pid) && ours.has(p.ppid)) (ours.add(p.pid), (grew = true));
  }
  const mine = procs.filter((p) => ours.has(p.pid));
  if (!byType) return mine.reduce((sum, p) => sum + p.bytes, 0);
  const out = {};
  for (const p of mine) out[p.type] = (out[p.type] ?? 0) + p.bytes;
  return out;
}
