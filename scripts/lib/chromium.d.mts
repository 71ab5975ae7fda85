import type { BrowserContext } from 'playwright-core';

export const CHROMIUM: string;
export const CHROMIUM_FLAGS: readonly string[];
export interface LaunchedChromium {
  context: BrowserContext;
  profile: string;
  /** Bytes resident in every process of this launch (Linux; 0 elsewhere). */
  rss(): number;
  /** The same, per process type (browser, renderer, gpu-process, utility, …). */
  rssByType(): Record<string, number>;
  close(): Promise<void>;
}
export function launchChromium(options?: { flags?: string[]; prefix?: string; [option: string]: unknown }): Promise<LaunchedChromium>;
export function chromiumRss(profile: string, byType?: false): number;
export function chromiumRss(profile: string, byType: true): Record<string, number>;
