/**
 * The layer rules of docs/architecture.md, checked by `npm run lint` (dependency-cruiser).
 * A domain is a folder of src/; routes call services, services call repositories.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'route-to-route',
      comment: 'A route file serves HTTP; what two route files share belongs in a service or shared/.',
      severity: 'error',
      from: { path: '\\.routes\\.ts$' },
      to: { path: '\\.routes\\.ts$' },
    },
    {
      name: 'only-server-imports-routes',
      comment: 'Only server.ts mounts route files; nothing below HTTP reaches up into them.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/server\\.ts$', '\\.routes\\.ts$', '\\.test\\.ts$'] },
      to: { path: '\\.routes\\.ts$' },
    },
    {
      name: 'route-to-repository',
      comment: 'Routes call services; SQL and repositories sit below them.',
      severity: 'error',
      from: { path: '\\.routes\\.ts$' },
      to: { path: '\\.(repository|read-model)\\.ts$' },
    },
    {
      name: 'repository-to-service',
      comment: 'A repository reads and writes tables; it never calls up into a service.',
      severity: 'error',
      from: { path: '\\.(repository|read-model)\\.ts$' },
      to: { path: '\\.(service|routes)\\.ts$' },
    },
    {
      name: 'foreign-repository',
      comment: "Other domains use a domain's service or index.ts, never its repository.",
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/([^/]+)/.+\\.(repository|read-model)\\.ts$', pathNot: ['^src/$1/', '^src/db/'] },
    },
    {
      name: 'sql-in-repositories',
      comment: 'SQL lives in repositories and named read models; everything else reaches tables through them.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/db/', '\\.(repository|read-model|schema|test)\\.ts$', '^src/deps\\.ts$'] },
      to: { path: ['^src/db/connection\\.ts$', 'node_modules/drizzle-orm'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'shared-stays-shared',
      comment: 'shared/ holds what every domain may use, so it imports no domain.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: ['^src/shared/', '^src/db/connection\\.ts$'] },
    },
    {
      name: 'ui-imports-types-only',
      comment: 'The browser bundle shares the API contract as types; server code never reaches it.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/', pathNot: '^src/web/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'server-stays-out-of-ui',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/web/' },
      to: { path: '^src/web/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/db/migrations' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
