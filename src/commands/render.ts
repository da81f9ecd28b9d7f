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
import { emptyCounts, readHistory, summarizeCounts } from '../history/history-source.ts';
import { type HistoryFlags, type OpenedHistory, addHistoryOptions, openHistory } from './history-options.ts';
import { renderJourneyPng } from '../render/image-png.ts';
import { SessionStore } from '../streams/session-store.ts';
import { type SessionClose } from '../journey/session-view.ts';
import { sessionize } from '../streams/sessionize.ts';
import { readBundleJson, verifyBundle } from '../model/bundle-manifest.ts';
import { readClusterPrototypes } from '../model/prototypes.ts';
import { parseIntOption } from './parse.ts';

export interface RenderOptions extends HistoryFlags {
  session?: string;
  start?: string;
  end?: string;
  bundle?: string;
  cluster?: number;
  out: string;
  spec?: string;
  scale: number;
}

export function registerRenderCommand(program: Command): void {
  const cmd = program
    .command('render')
    .description("write a journey image as a PNG (scaled up, with column labels): a session from an events file, or a cluster's prototype from a model bundle")
    .option('--session <id>', 'the session to render: its session id (as the ingestion config maps it), or u:<userId>:<start ms> for a session keyed by user; the latest session of that id is drawn')
    .option('--start <time>', 'draw only the session\'s events at or after this event time (ms or ISO-8601)')
    .option('--end <time>', 'draw only the session\'s events before this event time (ms or ISO-8601)')
    .option('--bundle <dir>', "model bundle: with --cluster, draw that cluster's prototype; with --session, draw the session with the bundle's image spec")
    .addOption(new Option('--cluster <id>', "cluster id (see the bundle's clusters.json or the train summary)").argParser(parseIntOption('--cluster', 0, 1_000_000)))
    .requiredOption('--out <file>', 'the PNG file to write')
    .option('--spec <file>', 'spec.json with the image and sessionization spec (default: spec.json beside --events, else the built-in defaults)')
    .addOption(new Option('--scale <n>', 'pixels per image cell').default(14).argParser(parseIntOption('--scale', 8, 64)));
  addHistoryOptions(cmd, 'the events of the session');
  cmd.action(async (opts: RenderOptions) => {
      const result = await runRender(opts);
      process.stderr.write(`${result.summary}\n`);
    });
}

/** Chooses the image source from the options; each source ends in renderJourneyPng. */
export async function runRender(opts: RenderOptions): Promise<{ png: Buffer; summary: string }> {
  if (opts.cluster !== undefined || (opts.bundle !== undefined && opts.session === undefined)) return renderCluster(opts);
  if ((opts.events === undefined && opts.topic === undefined) || opts.session === undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, 'render needs --events FILE (or --topic with --brokers) and --session ID (the session to draw), or --bundle DIR and --cluster ID (a cluster prototype).', { exitCode: 2 });
  }
  // a bundle draws the session with its own spec (its vocabulary), as `run` scores it
  const spec: DataSpec = opts.bundle !== undefined && opts.spec === undefined ? bundleSpec(opts.bundle) : loadDataSpec(opts.spec, opts.events ?? '');
  const range = { start: opts.start !== undefined ? parseTime(opts.start, '--start') : Number.NEGATIVE_INFINITY, end: opts.end !== undefined ? parseTime(opts.end, '--end') : Number.POSITIVE_INFINITY };
  const history = await openHistory(opts);
  const { session, sessions } = await sessionFromHistory(history, opts.session, spec, range);
  const shown = shownRows(session, spec);
  const png = renderJourneyPng(session.rasterize(), spec.image, {
    scale: opts.scale,
    title: `${session.sessionId} - ${shown.title}`,
  });
  writeFileSync(opts.out, png);
  const others =
    sessions > 1 ? ` The id ${opts.session} forms ${sessions} sessions (a gap over ${spec.sessionization.gapMs / 60_000} min splits one); this is the latest${Number.isFinite(range.end) ? ' before --end' : ''}: pick another with --start/--end.` : '';
  return { png, summary: `wrote ${opts.out}: session ${session.sessionId}, ${session.eventCount} events, ${spec.image.rows}x${imageWidth(spec.image)} image; ${shown.text}.${others}` };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Which part of the session the image's rows show, in words (the title and the summary). */
export function shownRows(session: SessionClose, spec: DataSpec): { title: string; text: string } {
  const rows = spec.image.rows;
  if (spec.image.rowMode === 'buckets') {
    const first = Math.floor(session.windowStart / spec.image.bucketMs);
    const last = Math.floor(session.windowEnd / spec.image.bucketMs);
    const buckets = last - first + 1;
    const from = Math.max(first, last - rows + 1) * spec.image.bucketMs;
    return {
      title: `${session.eventCount} events, rows ${iso(from).slice(0, 16)}..`,
      text: `the rows are ${spec.image.bucketMs / 60_000}-minute buckets ${buckets > rows ? `${buckets - rows + 1}-${buckets} of ${buckets}` : `1-${buckets}`}, from ${iso(from)} to ${iso(session.windowEnd)}`,
    };
  }
  const n = Math.min(session.eventCount, rows);
  const first = session.eventCount - n + 1;
  const part = n < session.eventCount ? `events ${first}-${session.eventCount} of ${session.eventCount} (the latest ${n}; earlier ones are not drawn: use --start/--end to draw another part)` : `all ${n} events`;
  return { title: n < session.eventCount ? `events ${first}-${session.eventCount} of ${session.eventCount}` : `${n} events`, text: `rows 1-${n} show ${part}, from ${iso(session.windowStart)} to ${iso(session.windowEnd)}` };
}

function parseTime(text: string, option: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UserError(ErrorCodes.CONFIG_INVALID, `${option} must be an event time in ms or an ISO-8601 date-time such as 2026-11-01T12:00:00Z, got "${text}".`, { exitCode: 2 });
  return ms;
}

function bundleSpec(dir: string): DataSpec {
  const manifest = verifyBundle(dir, { requiredFiles: [] });
  return { image: manifest.imageSpec, sessionization: manifest.sessionization };
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

/**
 * Sessionizes the events of one session id (time-ordered, as training does) within an event-time
 * range, and returns the latest of the sessions they form (the gap can split one id) and how many.
 */
export async function sessionFromHistory(history: OpenedHistory, sessionId: string, spec: DataSpec, range = { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }): Promise<{ session: SessionClose; sessions: number }> {
  const byUser = /^u:(.*):(-?\d+)$/.exec(sessionId);
  const keep = (e: ClickEvent): boolean => e.sessionId === sessionId || (byUser !== null && e.sessionId === '' && (e.userId ?? '') === byUser[1]);
  const counts = emptyCounts();
  const events: ClickEvent[] = [];
  for await (const { event } of readHistory(history.source, history.ingestion, counts)) if (keep(event) && event.timestamp >= range.start && event.timestamp < range.end) events.push(event);
  if (events.length === 0) {
    const where = Number.isFinite(range.start) || Number.isFinite(range.end) ? ' between --start and --end' : '';
    throw new UserError(
      ErrorCodes.INPUT_INVALID,
      `--session ${sessionId}: no event of that session${where} among the ${counts.events} events in ${history.label} (${summarizeCounts(counts)}); pick a session id from the data as the ingestion config maps it (or u:<userId>:<start ms> with ingestion.sessionKey userId).`,
    );
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const store = new SessionStore(spec.image, spec.sessionization);
  const closes: SessionClose[] = [];
  from(events.map((event, i) => ({ event, partition: 0, offset: BigInt(i) })))
    .pipe(sessionize({ store }))
    .subscribe((o) => {
      if (o.kind === 'close') closes.push(o);
    });
  const matches = closes.filter((c) => c.sessionId === sessionId).sort((a, b) => a.sessionStart - b.sessionStart);
  if (matches.length === 0) {
    const found = [...new Set(closes.map((c) => c.sessionId))].slice(0, 5).join(', ');
    throw new UserError(ErrorCodes.INPUT_INVALID, `--session ${sessionId}: the events of that user form the sessions ${found}; pass one of those ids.`);
  }
  return { session: matches.at(-1)!, sessions: matches.length };
}
