import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared';

const base = packageConfig('backend-cpu');

// The suite runs twice: as the runtime comes (Node 20: no relaxed SIMD, so products round each
// multiply and add) and in processes started with --experimental-wasm-relaxed-simd, where they
// fuse them (the default from Node 22 and Chrome 114), with test/relaxed-simd's checks of that.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: [
      { extends: true, test: { name: 'backend-cpu', exclude: ['test/relaxed-simd/**', '**/node_modules/**'] } },
      // (Chromium's run of ./threads does not depend on Node's flags: once is enough)
      { extends: true, test: { name: 'backend-cpu (relaxed SIMD)', execArgv: ['--expose-gc', '--experimental-wasm-relaxed-simd'], exclude: ['test/browser-threads.test.ts', '**/node_modules/**'] } },
    ],
  },
});
