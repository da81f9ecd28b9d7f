// Import rules of DESIGN.md "Layout", checked in `npm test` (npm run lint:deps). Folders follow
// the data flow and imports go one way: no folder imports another that imports it back, serving
// never imports training, nothing imports the commands, sinks never import consumers, and the
// contracts are a leaf.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders under src/ import each other in one direction only: no cycle in the graph of folders.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'serving-never-imports-training',
      comment: 'Only the train and eval commands load src/training/ (and tools/, bench/, tests); `journeylens run` must not load clustering or training code.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/training/', '^src/commands/(train|eval)\\.ts$'] },
      to: { path: '^src/training/' },
    },
    {
      name: 'nothing-imports-the-commands',
      comment: 'Commands are entry points: only src/cli.ts registers them (and they share commands/parse.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli\\.ts$', '^src/commands/'] },
      to: { path: ['^src/commands/', '^src/cli\\.ts$'] },
    },
    {
      name: 'sinks-never-import-consumers',
      comment: 'Outputs do not depend on inputs; what both need is in src/contracts/.',
      severity: 'error',
      from: { path: '^src/sinks/' },
      to: { path: '^src/consumers/' },
    },
    {
      name: 'contracts-are-a-leaf',
      comment: 'src/contracts/ imports only journey types and src/errors.ts.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/', pathNot: ['^src/contracts/', '^src/journey/', '^src/errors\\.ts$'] },
    },
    {
      name: 'contracts-take-only-types-from-journey',
      comment: 'The contracts name journey types (SessionView, ImageSpec) but run no journey code.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/journey/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'util-is-a-leaf',
      comment: 'src/util/ (the PRNG and the hash) imports nothing of the project but src/errors.ts.',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: ['^src/util/', '^src/errors\\.ts$'] },
    },
    {
      name: 'console-imports-only-what-it-shows',
      comment: 'The web console (src/console/) reads the contracts, draws with render/ and journey/, reads the bundle with model/ and binds its port with util/listen.ts; the processor, streams, consumers and sinks hand it signals, alerts and views through hooks the commands wire, so it imports none of them.',
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^src/', pathNot: ['^src/console/', '^src/contracts/', '^src/journey/', '^src/render/', '^src/model/', '^src/util/', '^src/errors\\.ts$', '^src/log\\.ts$'] },
    },
    {
      name: 'only-entry-points-import-the-console',
      comment: 'The console is started by the commands (run, demo, ui) and the processor wiring, nothing else.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/console/', '^src/commands/', '^src/processor/app\\.ts$'] },
      to: { path: '^src/console/' },
    },
    {
      name: 'no-unresolvable-imports',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // the console's page runs in the browser: its imports are URLs the console serves
    exclude: { path: '^src/console/static/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // packages that name their entry only in package.json "exports" (@platformatic/kafka)
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
