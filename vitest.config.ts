import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts resolves
// workspace imports to their TypeScript sources (the "@neurone/source" condition),
// so tests never need a prior build.
export default defineConfig({
  test: {
    // examples/README.md (the course walkthrough) is not a project
    projects: ['packages/*', 'examples/*', '!examples/*.md'],
  },
});
