/**
 * Dependency rules (DESIGN.md): every arrow points at @neurone/core.
 * Workspace imports resolve to packages/<name>/src through the "@neurone/source" condition,
 * so the rules speak of folders.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing',
      comment: 'core depends on no other workspace package',
      severity: 'error',
      from: { path: '^packages/core/src' },
      to: { path: '^packages/(?!core/)' },
    },
    {
      name: 'backends-only-core',
      comment: 'a backend imports no workspace package but core (never another backend)',
      severity: 'error',
      from: { path: '^packages/(backend-[^/]+)/src' },
      to: { path: '^packages/', pathNot: ['^packages/core/', '^packages/$1/'] },
    },
    {
      name: 'libraries-only-core',
      comment: 'layers, losses, optim and data import only @neurone/core among workspace packages, and never a backend',
      severity: 'error',
      from: { path: '^packages/(layers|losses|optim|data)/src' },
      to: { path: '^packages/', pathNot: ['^packages/core/', '^packages/$1/'] },
    },
    {
      name: 'autoencoder-core-and-layers',
      comment: 'the autoencoder builds on core and layers (DESIGN.md), never on a backend',
      severity: 'error',
      from: { path: '^packages/autoencoder/src' },
      to: { path: '^packages/', pathNot: '^packages/(core|layers|autoencoder)/' },
    },
    {
      name: 'onnx-core-and-layers',
      comment: 'the ONNX converters build on core and layers, never on a backend or another library package',
      severity: 'error',
      from: { path: '^packages/onnx/src' },
      to: { path: '^packages/', pathNot: '^packages/(core|layers|onnx)/' },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      from: { path: '^packages/[^/]+/src' },
      to: { path: '^packages/[^/]+/test/' },
    },
    {
      name: 'no-cross-package-relative',
      comment: 'reach another package through its name, never through ../',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { dependencyTypes: ['local'], path: '^packages/', pathNot: '^packages/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      // one cycle is by design: Tensor's methods (tensor.ts) call the op functions (ops.ts), which
      // end in the op layer (backend.ts), which makes Tensors; none of the three uses another at
      // module evaluation time, so the cycle is safe in ESM and CommonJS alike
      from: { pathNot: '^packages/core/src/ops\\.ts$' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      conditionNames: ['@neurone/source', 'import', 'types', 'default'],
      exportsFields: ['exports'],
    },
  },
};
