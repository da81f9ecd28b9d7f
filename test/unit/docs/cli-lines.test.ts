// Every `journeylens …` line the README and docs/ show a user names a subcommand and flags the CLI
// has. The tests that run a doc's commands cover a few docs end to end; this one catches the rest
// going stale when a flag is renamed or removed (an unknown flag exits 2 for the user).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli.ts';
import { repoRoot } from '../../helpers/docs.ts';

interface DocLine {
  where: string;
  line: string;
}

const DOCS = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Command lines in shell and plain blocks (continuations joined) and in inline code. */
function docLines(doc: string): DocLine[] {
  const text = readFileSync(join(repoRoot, doc), 'utf8');
  const out: DocLine[] = [];
  const fence = /^```(\S*)\n([\s\S]*?)^```$/gm;
  let prose = text;
  for (const m of text.matchAll(fence)) {
    prose = prose.replace(m[0], '');
    if (!['', 'sh', 'bash', 'shell', 'console'].includes(m[1]!)) continue;
    const joined = m[2]!.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      // "$ ", "npx " and environment assignments (JOURNEYLENS_UI_TOKEN_FILE=f journeylens ui …) go
      const line = raw.replace(/^\$\s+/, '').replace(/^(\w+=\S*\s+)+/, '').replace(/^npx\s+/, '').trim();
      if (line.startsWith('journeylens ')) out.push({ where: doc, line });
    }
  }
  for (const m of prose.matchAll(/`(journeylens [^`]+)`/g)) {
    // "journeylens setup: …" is a message the scripts print, not a command
    if (/^journeylens [\w-]+:/.test(m[1]!)) continue;
    out.push({ where: doc, line: m[1]! });
  }
  return out;
}

/** The line's subcommand and the long flags it uses, or a problem. */
function check(program: Command, line: string): string | undefined {
  const tokens = line.split(/\s+/).slice(1);
  let cmd = program;
  while (tokens.length > 0) {
    const next = cmd.commands.find((c) => c.name() === tokens[0] || c.aliases().includes(tokens[0]!));
    if (next === undefined) break;
    cmd = next;
    tokens.shift();
  }
  if (cmd === program) {
    const first = tokens[0] ?? '';
    if (first === '--help' || first === '--version' || first === '…' || first === '...') return undefined;
    return `no subcommand "${first}"`;
  }
  const known = new Set(['--help', ...cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined)]);
  for (const o of cmd.options) if (o.negate && o.long !== undefined) known.add(o.long);
  for (const [i, t] of tokens.entries()) {
    // stop at shell syntax: what follows a pipe or redirect is another program's (a usage line's
    // "--topic T | --events FILE" is an alternative, not a pipe)
    if (['>', '>>', '&&', ';', '2>&1', '&', '#'].includes(t)) break;
    if (t === '|' && !/^[([]*--/.test(tokens[i + 1] ?? '')) break;
    const bare = t.replace(/^[([]+/, '');
    if (!bare.startsWith('--')) continue;
    const flag = bare.split('=')[0]!.replace(/[.,;:)\]]+$/, '');
    if (flag === '--' || flag.length <= 2) continue;
    if (!known.has(flag)) return `"${cmd.name()}" has no option ${flag} (it has ${[...known].sort().join(', ')})`;
  }
  return undefined;
}

describe('journeylens lines in the docs', () => {
  const lines = DOCS.flatMap(docLines);

  it('finds the lines to check in the README and the docs', () => {
    expect(lines.length).toBeGreaterThan(50);
    expect(new Set(lines.map((l) => l.where)).size).toBeGreaterThan(5);
  });

  it('name a subcommand the CLI has and only flags that subcommand takes', () => {
    const program = buildProgram();
    const problems = lines.flatMap(({ where, line }) => {
      const problem = check(program, line);
      return problem === undefined ? [] : [`${where}: ${line}\n    → ${problem}`];
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('catches a flag the subcommand does not have', () => {
    const program = buildProgram();
    expect(check(program, 'journeylens run --no-such-flag 1')).toMatch(/"run" has no option --no-such-flag/);
    expect(check(program, 'journeylens nosuch --x')).toMatch(/no subcommand "nosuch"/);
    expect(check(program, 'journeylens import events --config C --events F --out DIR')).toBeUndefined();
  });
});
