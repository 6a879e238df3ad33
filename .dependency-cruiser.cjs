/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means neither module can be understood, tested or moved without the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'db-is-the-floor',
      severity: 'error',
      comment: 'src/db sits under everything but src/util: it may import only itself, src/util and packages, types included (move a shared type down instead).',
      from: { path: '^src/db/' },
      to: { path: '^src/', pathNot: '^src/(db|util)/' },
    },
    {
      name: 'util-is-a-leaf',
      severity: 'error',
      comment: 'src/util is what any room may use (ids, correlation ids, stream guards, the slot gate), so it imports nothing from src.',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/util/' },
    },
    {
      name: 'csv-stays-pure',
      severity: 'error',
      comment: 'src/csv is pure parsing and validation: no database, queue or HTTP.',
      from: { path: '^src/csv/' },
      to: { path: '^src/(db|jobs|routes)/' },
    },
    {
      name: 'no-entry-from-routes-or-plugins',
      severity: 'error',
      comment: 'Entries compose routes and plugins; an import the other way turns the composition root into a dependency.',
      from: { path: '^src/(routes|plugins)/' },
      to: { path: '^src/(app|server|worker|cli)\\.ts$' },
    },
    {
      name: 'client-is-http-only',
      severity: 'error',
      comment: 'src/client (massprov-client) is only an HTTP client of the API, like the console: it imports nothing from the rest of src, types included.',
      from: { path: '^src/client/' },
      to: { path: '^src/', pathNot: '^src/client/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
}
