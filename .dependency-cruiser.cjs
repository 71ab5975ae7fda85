/**
 * Dependency rules (DESIGN.md): every arrow points at @neurone/core.
 * - library packages import no workspace package but core (autoencoder may use layers);
 * - a library's src never imports a concrete backend (tests take one as a devDependency);
 * - no package reaches into another's files by relative path.
 */
const LIBS = 'packages/(core|layers|losses|optim|data|autoencoder|backend-cpu|backend-gpu)/src';
module.exports = {
  forbidden: [
    {
      name: 'no-backend-in-libraries',
      comment: 'layers, losses, optim, data and autoencoder never import a concrete backend',
      severity: 'error',
      from: { path: '^packages/(layers|losses|optim|data|autoencoder|core)/src' },
      to: { path: '(^packages/backend-|@neurone/backend-)' },
    },
    {
      name: 'backends-only-core',
      comment: 'a backend imports no other workspace package than core',
      severity: 'error',
      from: { path: '^packages/backend-[^/]+/src' },
      to: { path: '(^packages/(?!core/)[^/]+/|@neurone/(?!core))' , pathNot: '^packages/$1' },
    },
    {
      name: 'core-imports-nothing',
      comment: 'core depends on no other workspace package',
      severity: 'error',
      from: { path: '^packages/core/src' },
      to: { path: '(^packages/(?!core/)|@neurone/)' },
    },
    {
      name: 'libraries-only-core',
      comment: 'library packages import only @neurone/core among workspace packages (autoencoder: also layers)',
      severity: 'error',
      from: { path: '^packages/(layers|losses|optim|data)/src' },
      to: { path: '(^packages/(?!core/)|@neurone/(?!core))', pathNot: '^packages/(layers|losses|optim|data)/src' },
    },
    {
      name: 'autoencoder-core-and-layers',
      severity: 'error',
      from: { path: '^packages/autoencoder/src' },
      to: { path: '(^packages/(?!(core|layers|autoencoder)/)|@neurone/(?!(core|layers)))' },
    },
    {
      name: 'no-cross-package-relative',
      comment: 'reach another package through its name, never through ../',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: ['^packages/$1/', '^packages/[^/]+/node_modules'] , dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'local'] },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: { conditionNames: ['@neurone/source', 'import', 'types', 'default'], exportsFields: ['exports'] },
  },
};
