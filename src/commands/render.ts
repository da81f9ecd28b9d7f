// `journeylens render`: writes a journey image as a labelled PNG. The image comes from the same
// sessionizer and rasterizer as live traffic, so what you see is what the encoder sees.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { from } from 'rxjs';
import { BUNDLE_FILES, type ClustersFile } from '../contracts/bundle-format.ts';
import { type ClickEvent } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { type DataSpec, imageWidth } from '../journey/image-spec.ts';
import { loadDataSpec } from '../history/data-spec.ts';
import { readClickEventsJsonl } from '../history/events-jsonl.ts';
import { renderJourneyPng } from '../render/image-png.ts';
import { SessionStore } from '../streams/session-store.ts';
import { type SessionClose } from '../journey/session-view.ts';
import { sessionize } from '../streams/sessionize.ts';
import { readBundleJson, verifyBundle } from '../model/bundle-manifest.ts';
import { readClusterPrototypes } from '../model/prototypes.ts';
import { parseIntOption } from './parse.ts';

export interface RenderOptions {
  events?: string;
  session?: string;
  bundle?: string;
  cluster?: number;
  out: string;
  spec?: string;
  scale: number;
}

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description("write a journey image as a PNG (scaled up, with column labels): a session from an events file, or a cluster's prototype from a model bundle")
    .option('--events <file>', 'click events, one JSON object per line')
    .option('--session <id>', 'the session to render: its sessionId, or u:<userId>:<start ms> for a session keyed by user')
    .option('--bundle <dir>', 'model bundle whose cluster prototype to draw (with --cluster)')
    .addOption(new Option('--cluster <id>', "cluster id (see the bundle's clusters.json or the train summary)").argParser(parseIntOption('--cluster', 0, 1_000_000)))
    .requiredOption('--out <file>', 'the PNG file to write')
    .option('--spec <file>', 'spec.json with the image and sessionization spec (default: spec.json beside --events, else the built-in defaults)')
    .addOption(new Option('--scale <n>', 'pixels per image cell').default(14).argParser(parseIntOption('--scale', 8, 64)))
    .action(async (opts: RenderOptions) => {
      const result = await runRender(opts);
      process.stderr.write(`${result.summary}\n`);
    });
}

/** Chooses the image source from the options; each source ends in renderJourneyPng. */
export async function runRender(opts: RenderOptions): Promise<{ png: Buffer; summary: string }> {
  if (opts.bundle !== undefined || opts.cluster !== undefined) return renderCluster(opts);
  if (opts.events === undefined || opts.session === undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, 'render needs --events FILE and --session ID (the session to draw), or --bundle DIR and --cluster ID (a cluster prototype).', { exitCode: 2 });
  }
  const spec = loadDataSpec(opts.spec, opts.events);
  const session = await sessionFromEvents(opts.events, opts.session, spec);
  const png = renderJourneyPng(session.rasterize(), spec.image, {
    scale: opts.scale,
    title: `${session.sessionId} - ${session.eventCount} events`,
  });
  writeFileSync(opts.out, png);
  return { png, summary: `wrote ${opts.out}: session ${session.sessionId}, ${session.eventCount} events, ${spec.image.rows}x${imageWidth(spec.image)} image` };
}

/** A cluster's prototype: the mean image of its training sessions, titled with its label. */
function renderCluster(opts: RenderOptions): { png: Buffer; summary: string } {
  if (opts.bundle === undefined || opts.cluster === undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, 'render: give --bundle DIR and --cluster ID together to draw a cluster prototype.', { exitCode: 2 });
  }
  const manifest = verifyBundle(opts.bundle, { requiredFiles: [BUNDLE_FILES.clusters, BUNDLE_FILES.prototypes] });
  const file = readBundleJson<ClustersFile>(opts.bundle, BUNDLE_FILES.clusters);
  const cluster = file.clusters.find((c) => c.id === opts.cluster);
  if (!cluster) {
    const ids = file.clusters.map((c) => c.id).join(', ');
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--cluster ${opts.cluster}: the bundle ${opts.bundle} has no such cluster; its clusters are ${ids}.`, { exitCode: 2 });
  }
  const image = readClusterPrototypes(opts.bundle, { ...file, clusters: [cluster] }).get(cluster.id) as Float32Array;
  const png = renderJourneyPng(image, manifest.imageSpec, {
    scale: opts.scale,
    title: `cluster ${cluster.id}: ${cluster.label} - ${cluster.size} sessions, churn ${(cluster.churnRate * 100).toFixed(0)}%`,
  });
  writeFileSync(opts.out, png);
  return { png, summary: `wrote ${opts.out}: cluster ${cluster.id} (${cluster.label}), prototype = mean of ${cluster.size} training images` };
}

/** Sessionizes the events of one session (time-ordered, as training does) and returns its final state. */
export async function sessionFromEvents(eventsPath: string, sessionId: string, spec: DataSpec): Promise<SessionClose> {
  const byUser = /^u:(.*):(-?\d+)$/.exec(sessionId);
  const keep = (e: ClickEvent): boolean => e.sessionId === sessionId || (byUser !== null && e.sessionId === '' && (e.userId ?? '') === byUser[1]);
  const { events, read } = await readClickEventsJsonl(eventsPath, keep);
  if (events.length === 0) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `--session ${sessionId}: no event of that session among the ${read} events in ${eventsPath}; pick a sessionId from the file (or u:<userId>:<start ms> for events without a sessionId).`);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const store = new SessionStore(spec.image, spec.sessionization);
  const closes: SessionClose[] = [];
  from(events.map((event, i) => ({ event, partition: 0, offset: BigInt(i) })))
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind === 'close') closes.push(o);
    });
  const match = closes.find((c) => c.sessionId === sessionId);
  if (!match) {
    const found = [...new Set(closes.map((c) => c.sessionId))].slice(0, 5).join(', ');
    throw new UserError(ErrorCodes.INPUT_INVALID, `--session ${sessionId}: the events of that user form the sessions ${found}; pass one of those ids.`);
  }
  return match;
}
