// The image cannot be built here (no Docker engine), so this checks what can be checked
// without one: the stage layout, the non-root user, and that the image agrees with the Helm
// chart (uid, port, bundle path, command) and with the repository (every COPY source exists
// and is not excluded from the build context).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UI_DEFAULT_PORT } from '../../src/commands/ui.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function instructions(): Instruction[] {
  // As Docker does: drop comment lines (also inside continuations), join continuations, then
  // split into (op, args) with the stage index.
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = -1;
  const out: Instruction[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    expect(m, `unparsable Dockerfile line: ${line}`).not.toBeNull();
    const op = m![1]!;
    if (op === 'FROM') stage += 1;
    out.push({ op, args: m![2]!.replace(/\s+#.*$/, '').trim(), stage });
  }
  return out;
}

const values = parse(readFileSync(join(root, 'helm', 'journeylens', 'values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number };
  containerSecurityContext: { runAsUser: number };
  metrics: { port: number };
  model: { bundle: string };
  console: { port: number };
};
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  const ins = instructions();
  const arg = (name: string): string | undefined => ins.find((i) => i.op === 'ARG' && i.args.startsWith(`${name}=`))?.args.split('=')[1];
  const lastStage = Math.max(...ins.map((i) => i.stage));
  const final = ins.filter((i) => i.stage === lastStage);

  it('is multi-stage on Debian slim Node 24 LTS, never Alpine', () => {
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) {
      const image = f.args.split(/\s+/)[0]!.replace('${NODE_IMAGE}', arg('NODE_IMAGE') ?? '');
      expect(image).toBe('node:24-bookworm-slim');
    }
  });

  it('compiles the native addon in the build stage only', () => {
    const build = ins.filter((i) => i.stage === 0);
    const apt = build.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'));
    for (const pkg of ['python3', 'make', 'g++']) expect(apt?.args).toContain(pkg);
    expect(build.some((i) => i.op === 'RUN' && i.args.includes("require('hnswlib-node')"))).toBe(true);
    expect(final.some((i) => i.op === 'RUN' && i.args.includes('g++'))).toBe(false);
  });

  it('runs as the same non-root numeric user as the Helm chart', () => {
    const users = final.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(uid).toBe(values.podSecurityContext.runAsUser);
    expect(uid).toBe(values.containerSecurityContext.runAsUser);
    expect(gid).toBeGreaterThan(0);
  });

  it('exposes the chart metrics port, ships the chart bundle path and runs `journeylens run`', () => {
    expect(final.find((i) => i.op === 'EXPOSE')?.args).toBe(String(values.metrics.port));
    const env = final.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain(`JOURNEYLENS_METRICS_PORT=${values.metrics.port}`);
    expect(env).toContain(`JOURNEYLENS_BUNDLE=${values.model.bundle}`);
    expect(JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')!.args)).toEqual(['node', '/app/bin/journeylens.js']);
    expect(JSON.parse(final.find((i) => i.op === 'CMD')!.args)).toEqual(['run']);
  });

  it("ships the web console's page where the compiled server looks for it", () => {
    // dist/src/console/static-files.js resolves ../../../src/console/static/ from itself
    const from = '/app/dist/src/console/static-files.js';
    const want = new URL('../../../src/console/static/', `file://${from}`).pathname.replace(/\/$/, '');
    // the console's port as the chart sets it, which is also `journeylens ui`'s default
    expect(final.filter((i) => i.op === 'EXPOSE').map((i) => i.args)).toEqual([String(values.metrics.port), String(values.console.port)]);
    expect(values.console.port).toBe(UI_DEFAULT_PORT);
    const copies = final.filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build')).map((i) => i.args.split(/\s+/).slice(1));
    expect(copies).toContainEqual(['/app/src/console/static', './src/console/static']);
    expect(ins.find((i) => i.op === 'WORKDIR' && i.stage === lastStage)?.args).toBe('/app');
    expect(want).toBe('/app/src/console/static');
    expect(existsSync(join(root, 'src', 'console', 'static', 'index.html'))).toBe(true);
  });

  it('copies only sources that exist and that .dockerignore keeps in the context', () => {
    const sources = ins
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(join(root, s)), s).toBe(true);
      expect(ignored.some((p) => s === p || s.startsWith(`${p}/`)), `${s} is in .dockerignore`).toBe(false);
    }
    for (const p of ['node_modules', 'dist', 'tools/kafka/libs', 'tools/bin', '.git']) expect(ignored).toContain(p);
  });
});
