import { defineConfig } from 'vitest/config';

/** The per-package vitest config: resolve `@neurone/*` to source, not dist. */
export function packageConfig(name: string, extra: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@neurone/source'] },
    ssr: { resolve: { conditions: ['@neurone/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      // hang guards, not speed checks (tests never assert on time): under turbo every package's
      // tests share a loaded 2-core machine, where a 20 s test has been seen to take 140 s
      testTimeout: extra.testTimeout ?? 600_000,
      hookTimeout: 600_000,
      pool: 'forks',
      // memory tests collect garbage before reading the heap
      execArgv: ['--expose-gc'],
    },
  });
}
