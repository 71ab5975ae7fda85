import { defineConfig } from 'vitest/config';

/** The per-package vitest config: resolve `@neurone/*` to source, not dist. */
export function packageConfig(name: string, extra: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@neurone/source'] },
    ssr: { resolve: { conditions: ['@neurone/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 30_000,
      pool: 'forks',
    },
  });
}
