import { defineConfig } from 'vitest/config';

/** The per-package vitest config: resolve `@neurone/*` to source, not dist. */
export function packageConfig(name: string, extra: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@neurone/source'] },
    ssr: { resolve: { conditions: ['@neurone/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      // generous: the suite must pass on a loaded 2-core machine; tests never assert on time
      testTimeout: extra.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      // memory tests collect garbage before reading the heap
      execArgv: ['--expose-gc'],
    },
  });
}
