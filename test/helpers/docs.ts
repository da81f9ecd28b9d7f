// Code blocks of the docs, for the tests that run what a doc tells users to type.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The fenced code blocks of `doc` (a path under the repository root) in the given language, in order. */
export function codeBlocks(doc: string, language: string): string[] {
  const text = readFileSync(join(repoRoot, doc), 'utf8');
  const blocks: string[] = [];
  const fence = /^```(\S*)\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(fence)) if (m[1] === language) blocks.push(m[2]!);
  return blocks;
}
