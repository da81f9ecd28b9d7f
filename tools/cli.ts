// Runs the CLI from source (no build step): `npx tsx tools/cli.ts <command> ...`. The npm
// scripts for training and evaluation use it so they work in a fresh checkout.
import { main } from '../src/cli.ts';

process.exitCode = await main(process.argv);
