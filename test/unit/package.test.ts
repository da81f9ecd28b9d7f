// The installed package must hold everything the CLI loads: every module reachable from
// bin/journeylens.js, and the files those modules read at run time (schemas, the default model
// bundle, the pinned Kafka pom). `npm pack --dry-run` lists what an install would get.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set(pack!.files.map((f) => f.path));
}

// Relative module specifiers of a file: static and dynamic imports, re-exports, and the
// `new URL('./x.js', import.meta.url)` form the encoder worker is started with.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)(['"])(\.\.?\/[^'"]+)\1/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => m[2]!).filter((s) => /\.(m?js|ts|json)$/.test(s));
}

/** Every file reachable from `entry` through relative imports (paths relative to the repo root). */
function reachable(entry: string, resolveSpecifier: (from: string, spec: string) => string): string[] {
  const seen = new Set<string>();
  const todo = [resolve(root, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) continue;
    for (const spec of relativeImports(file)) todo.push(resolveSpecifier(file, spec));
  }
  return [...seen].map((f) => relative(root, f).split('\\').join('/'));
}

describe('the npm package', () => {
  const packed = packedFiles();

  it('ships the build of every source module the CLI can load, and none of tools/, bench/ or test/', () => {
    // The source graph from the CLI: the build mirrors it under dist/, and "files" ships dist/src.
    const sources = reachable('src/cli.ts', (from, spec) => resolve(dirname(from), spec));
    expect(sources.length).toBeGreaterThan(50);
    const outside = sources.filter((f) => !f.startsWith('src/'));
    expect(outside).toEqual([]);
    expect([...packed].some((f) => f.startsWith('dist/src/'))).toBe(existsSync(join(root, 'dist', 'src', 'cli.js')));
  });

  it.runIf(existsSync(join(root, 'dist', 'src', 'cli.js')))('has every module reachable from bin/journeylens.js in the pack (needs a build)', () => {
    // the compiled scoring pool names its worker both ways; from dist/ it starts the .js one
    const bin = reachable('bin/journeylens.js', (from, spec) => resolve(dirname(from), spec)).filter((f) => !f.endsWith('.ts'));
    const missing = bin.filter((f) => !packed.has(f));
    expect(missing).toEqual([]);
    expect(bin).toContain('dist/src/cli.js');
    expect(bin).toContain('dist/src/local-kafka/local-kafka.js');
    expect(bin).toContain('dist/src/model/scoring-worker.js');
    expect(bin.filter((f) => f.startsWith('dist/tools/') || f.startsWith('tools/'))).toEqual([]);
  });

  it("ships the web console's page where the compiled server finds it, and its chart library as a dependency", () => {
    const pageFiles = readdirSync(join(root, 'src', 'console', 'static'));
    expect(pageFiles).toEqual(expect.arrayContaining(['index.html', 'app.js', 'style.css', 'favicon.svg']));
    for (const f of pageFiles) expect(packed).toContain(`src/console/static/${f}`);
    // dist/src/console/static-files.js looks three levels up, into the package root
    const compiled = join(root, 'dist', 'src', 'console');
    expect(resolve(compiled, '../../../src/console/static')).toBe(join(root, 'src', 'console', 'static'));
    // served from node_modules at run time, so a production dependency
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('uplot');
    expect([...packed].filter((f) => f.startsWith('src/') && !f.startsWith('src/console/static/'))).toEqual([]);
  });

  it('ships the files the CLI reads at run time: schemas, the default bundle, the Kafka pom', () => {
    for (const schema of ['click-event.avsc', 'journey-signal.avsc', 'churn-alert.avsc']) expect(packed).toContain(`schemas/${schema}`);
    const manifest = JSON.parse(readFileSync(join(root, 'models', 'default', 'manifest.json'), 'utf8')) as { files: Record<string, string> };
    for (const f of ['manifest.json', ...Object.keys(manifest.files)]) expect(packed).toContain(`models/default/${f}`);
    expect(packed).toContain('tools/kafka/pom.xml');
    expect(packed).toContain('bin/journeylens.js');
    expect([...packed].filter((f) => f.startsWith('tools/') && f !== 'tools/kafka/pom.xml')).toEqual([]);
  });
});
