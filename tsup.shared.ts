import { defineConfig } from 'tsup';

/** The build of every library package: ESM + .d.ts, sibling packages left external. */
export function packageBuild(entry: string[] = ['src/index.ts']) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: { compilerOptions: { customConditions: [] } },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // sibling packages stay external: one copy of core at run time
    external: [/^@neurone\//],
  });
}
