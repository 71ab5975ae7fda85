#!/usr/bin/env node
/**
 * Type-checks every TypeScript example in the READMEs (the root one, ARCHITECTURE.md, bench's and each package's) against
 * the packages' sources, so that documentation cannot drift from the API. The snippets are
 * written to examples/autoencoder/.readme-check/ (gitignored; that app depends on every library
 * package) and checked with its tsconfig. Prints one line per README; exits 1 on any error.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'examples/autoencoder/.readme-check');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const readmes = ['README.md', 'ARCHITECTURE.md', 'bench/README.md', ...readdirSync(join(root, 'packages')).map((p) => `packages/${p}/README.md`)].filter((f) => existsSync(join(root, f)));
const counts = [];
for (const file of readmes) {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks = [...text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]);
  blocks.forEach((code, i) => {
    const name = `${file.replace(/\//g, '_').replace(/\.md$/, '')}_${i + 1}.ts`;
    // each snippet is its own module (top-level await allowed), named after its README
    writeFileSync(join(out, name), `// ${file}, TypeScript block ${i + 1}\n${code}\nexport {};\n`);
  });
  counts.push(`${file}: ${blocks.length} block(s)`);
}
writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts'] }, null, 2));
try {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', join(out, 'tsconfig.json')], { stdio: 'pipe', cwd: root });
} catch (e) {
  console.error(`README examples do not type-check:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  process.exit(1);
}
console.log(`README examples type-check: ${counts.join(', ')}`);
rmSync(out, { recursive: true, force: true });
