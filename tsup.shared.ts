import { defineConfig } from 'tsup';

/**
 * The build of every library package: ESM (`.js`, `.d.ts`) for `import` and bundlers, and CommonJS
 * (`.cjs`, `.d.cts`) for `require()`, sibling packages left external (one copy of core at run
 * time within each module system; see the root README on mixing them).
 */
export function packageBuild(entry: string[] = ['src/index.ts']) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { customConditions: [] } },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // import.meta.url (createRequire in the Node entries) in the CommonJS build
    shims: true,
    // entries of one package share their chunks in both formats (one copy of each class)
    splitting: true,
    // sibling packages stay external: one copy of core at run time
    external: [/^@neurone\//],
  });
}
