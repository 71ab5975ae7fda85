import { defaultClientConditions, defineConfig } from 'vite';

// The packages are imported by name, through their exports maps; the "@neurone/source" condition
// picks their TypeScript sources (as the repository's tests do), so no prior build is needed.
export default defineConfig({
  resolve: { conditions: ['@neurone/source', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024, reportCompressedSize: false },
  server: { host: '127.0.0.1' },
});
