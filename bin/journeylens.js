#!/usr/bin/env node
// Entry point of the `journeylens` binary: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('journeylens: the build output is missing; run `npm run build` (or `npm test` / `npm run demo`, which build first).\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv);
