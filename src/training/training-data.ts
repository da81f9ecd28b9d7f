// History → training sessions, through the SAME SessionStore and `sessionize` operator as live
// traffic (no training/serving skew): events are streamed from the JSONL file in file order
// (event time, as `simulate` and `import` write them) into the operator on one partition, and
// `closeOnComplete` gives every session its final close. Each session keeps:
//
// - its final state (a SessionView: packed rows, a few hundred bytes; rasterized on demand),
// - prefix states: a live session is scored long before it ends, so the readout also learns
//   from prefixes. While a session is open we snapshot it at event counts on a geometric
//   schedule (1, 2, 3, … 8, then ~+19 % each) and at its quiet re-scores (when the spec has
//   quietEveryMs), and at its close keep the snapshots nearest in time to `prefixFractions`
//   (default 25/50/75 %) of the way from its first event to its latest snapshot, i.e. what a live
//   session looked like a quarter, half and three quarters of the way through, quiet spells
//   included (a learner who stopped on day 5 is, on day 20, the same events 15 days quiet),
// - a summary (summariseSession over its events, for cluster labels and count baselines),
// - the label of its user from labels.csv (NaN when the user is unlabelled: such sessions train
//   the autoencoder but not the readout), and its archetype when archetypes.csv is beside the
//   events (ground truth for the adjusted Rand index).
//
// Only open sessions hold their events; a closed session keeps views and a summary.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Subject } from 'rxjs';
import { type ClickEvent } from '../contracts/records.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { loadPartialDataSpec } from '../history/data-spec.ts';
import { type HistoryCounts, type HistorySource, defaultIngestion, describeSource, emptyCounts, readHistory, summarizeCounts } from '../history/history-source.ts';
import { type LearnedVocabulary, VocabularyCounter, chooseVocabulary } from '../history/vocabulary.ts';
import { type Ingestion } from '../consumers/ingest.ts';
import { type ClickEnvelope, type SessionEvent } from '../streams/outcomes.ts';
import { SessionStore } from '../streams/session-store.ts';
import { type SessionView } from '../journey/session-view.ts';
import { sessionize } from '../streams/sessionize.ts';
import { type SessionSummary } from './cluster-labels.ts';
import { type DataSpec } from '../journey/image-spec.ts';
import { adjustedRandIndex } from './metrics-quality.ts';
import { summariseSession } from './session-summary.ts';

export interface TrainingSession {
  sessionId: string;
  userId: string | null;
  eventCount: number;
  final: SessionView;
  /** Earlier states of the session (fewer events, or the same ones less long quiet), oldest first; may be empty for short sessions. */
  prefixes: SessionView[];
  summary: SessionSummary;
  /** 1 churned, 0 retained, NaN unlabelled. */
  label: number;
  /** Ground-truth archetype (from archetypes.csv), when known. */
  archetype?: string;
}

export interface TrainingData {
  spec: DataSpec;
  sessions: TrainingSession[];
  /** Events read (after the horizon filter). */
  events: number;
  /** What the history held: events, records without consent, unusable records by reason. */
  input: HistoryCounts;
  /** Where the labels came from, and for derived labels (churnAfterMs) their counts. */
  labels: LabelSummary;
  /** Set when the spec named no event types: the vocabulary chosen for the data (vocabulary.ts). */
  vocabulary?: LearnedVocabulary;
  late: number;
  duplicates: number;
  /** Sessions with a label / all sessions. */
  labelRate: number;
  /** sha256 over the events, labels and spec actually used: part of the model version. */
  dataHash: string;
  /** Time of the first event in the file (ms), the origin of `horizonMs`. */
  firstEventTime: number;
  hasArchetypes: boolean;
}

/** How sessions got their labels. */
export type LabelSummary =
  | { source: 'file'; path: string }
  | { source: 'none' }
  | {
      source: 'churnAfter';
      churnAfterMs: number;
      churned: number;
      retained: number;
      /** Sessions whose last event is closer than churnAfterMs to the end of the history, with no later session of their user: left unlabelled. */
      tooRecent: number;
      /** Users with only too-recent sessions (counted once). */
      tooRecentUsers: number;
      /** Sessions without a userId: nothing can follow them, so they are left unlabelled. */
      noUser: number;
      /** Event time of the newest event (the end of the history). */
      historyEnd: number;
    };

export interface TrainingDataOptions {
  /** The events file (JSON Lines or Avro container); `source` replaces it (e.g. a topic). */
  events?: string;
  source?: HistorySource;
  /** The user's ingestion config (mapping, consent, …); default: ClickEvent JSON as written. */
  ingestion?: Ingestion;
  /**
   * Derive labels from the history itself: a session's user churned when no session of that
   * user starts within this long (event time) after the session's last event.
   */
  churnAfterMs?: number;
  /** labels.csv (`userId,churned`); without it every session is unlabelled. */
  labels?: string;
  /** The spec itself (e.g. a bundle's, for evaluation); replaces `spec`. */
  dataSpec?: DataSpec;
  /** spec.json; default: spec.json beside the events file, else the built-in defaults. */
  spec?: string;
  /** archetypes.csv; default: beside the events file when present. */
  archetypes?: string;
  prefixFractions?: readonly number[];
  /** Keep only events earlier than first event + horizonMs (early-warning evaluation). */
  horizonMs?: number;
  /** Keep only these users' events (e.g. a train/test split); applied before sessionizing. */
  users?: ReadonlySet<string>;
  onProgress?: (events: number) => void;
}

/**
 * Labels from the history itself (train --churn-after): a session is churned when its user has
 * no later session starting within `afterMs` of its last event, retained when one does; when
 * the history ends sooner than that after it and nothing followed, it is too recent to tell.
 */
export function deriveChurnLabels(sessions: TrainingSession[], afterMs: number, historyEnd: number): Extract<LabelSummary, { source: 'churnAfter' }> {
  const starts = new Map<string, number[]>();
  for (const s of sessions) if (s.userId !== null) (starts.get(s.userId) ?? starts.set(s.userId, []).get(s.userId)!).push(s.final.sessionStart);
  for (const list of starts.values()) list.sort((a, b) => a - b);
  const out = { source: 'churnAfter' as const, churnAfterMs: afterMs, churned: 0, retained: 0, tooRecent: 0, tooRecentUsers: 0, noUser: 0, historyEnd };
  const recentUsers = new Set<string>();
  const labelledUsers = new Set<string>();
  for (const s of sessions) {
    if (s.userId === null) {
      s.label = Number.NaN;
      out.noUser++;
      continue;
    }
    const end = s.final.windowEnd;
    const list = starts.get(s.userId)!;
    // the first start after this session's last event (binary search)
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! > end) hi = mid;
      else lo = mid + 1;
    }
    const next = list[lo];
    if (next !== undefined && next - end <= afterMs) {
      s.label = 0;
      out.retained++;
    } else if (end + afterMs <= historyEnd) {
      s.label = 1;
      out.churned++;
    } else {
      s.label = Number.NaN;
      out.tooRecent++;
      recentUsers.add(s.userId);
      continue;
    }
    labelledUsers.add(s.userId);
  }
  for (const u of recentUsers) if (!labelledUsers.has(u)) out.tooRecentUsers++;
  return out;
}

export const defaultPrefixFractions = [0.25, 0.5, 0.75] as const;

function readCsvPairs(path: string, header: string, option: string): Map<string, string> {
  if (!existsSync(path)) throw new UserError(ErrorCodes.INPUT_INVALID, `${option} ${path}: no such file.`, { exitCode: 2 });
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  if (lines[0]?.trim() !== header) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${option} ${path}: the first line must be the header "${header}", got ${JSON.stringify(lines[0])}.`, { exitCode: 2 });
  }
  const out = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const comma = line.lastIndexOf(',');
    if (comma <= 0) throw new UserError(ErrorCodes.INPUT_INVALID, `${option} ${path}:${i + 1}: expected two comma-separated fields, got ${JSON.stringify(line)}.`, { exitCode: 2 });
    out.set(line.slice(0, comma), line.slice(comma + 1));
  }
  return out;
}

/** labels.csv → userId → 1/0. */
export function readLabels(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [user, v] of readCsvPairs(path, 'userId,churned', '--labels')) {
    if (v !== '0' && v !== '1') throw new UserError(ErrorCodes.INPUT_INVALID, `--labels ${path}: churned must be 0 or 1 for user ${user}, got ${JSON.stringify(v)}.`, { exitCode: 2 });
    out.set(user, Number(v));
  }
  return out;
}

/** Event counts at which an open session is snapshotted: 1..8, then ~19 % apart. */
function isSnapshotPoint(count: number): boolean {
  if (count <= 8) return true;
  const k = Math.round(Math.log(count / 8) / Math.log(1.19));
  return Math.max(9, Math.round(8 * 1.19 ** k)) === count;
}

interface OpenSession {
  generation: number;
  sessionId: string;
  events: ClickEvent[];
  snapshots: SessionView[];
}

function choosePrefixes(snapshots: readonly SessionView[], final: SessionView, fractions: readonly number[]): SessionView[] {
  const chosen = new Set<SessionView>();
  // Fractions of the time the session was scored in live: from its first event to its latest
  // snapshot (its last event, or its last quiet re-score), not to the close, whose gap is a
  // fixed wait the pipeline never scores inside when quiet re-scores are off.
  const start = final.sessionStart;
  let end = start;
  for (const s of snapshots) if (s.asOf < final.asOf && s.asOf > end) end = s.asOf;
  const span = end - start;
  for (const f of fractions) {
    const want = start + f * span;
    let best: SessionView | undefined;
    for (const s of snapshots) {
      if (s.asOf >= final.asOf) continue;
      if (!best || Math.abs(s.asOf - want) < Math.abs(best.asOf - want)) best = s;
    }
    if (best) chosen.add(best);
  }
  return [...chosen].sort((a, b) => a.asOf - b.asOf);
}

/** Streams the events file through the live sessionizer; see the file comment. */
export async function loadTrainingData(options: TrainingDataOptions): Promise<TrainingData> {
  const source: HistorySource | undefined = options.source ?? (options.events !== undefined ? { kind: 'file', path: options.events } : undefined);
  if (source === undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, 'training data needs --events FILE, or --brokers and --topic.', { exitCode: 2 });
  if (options.labels !== undefined && options.churnAfterMs !== undefined) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, '--labels and --churn-after both say who churned: give one of them.', { exitCode: 2 });
  }
  const ingestion = options.ingestion ?? defaultIngestion();
  const eventsFile = source.kind === 'file' ? source.path : undefined;
  const loaded = options.dataSpec !== undefined ? { spec: options.dataSpec, eventTypesGiven: true, pageBucketsGiven: true } : loadPartialDataSpec(options.spec, eventsFile);
  let spec = loaded.spec;
  let vocabulary: LearnedVocabulary | undefined;
  const keep = (event: ClickEvent, firstTime: number): boolean =>
    (options.horizonMs === undefined || event.timestamp < firstTime + options.horizonMs) && (!options.users || options.users.has(event.userId ?? ''));
  if (!loaded.eventTypesGiven) {
    // a first pass counts the types (a topic's second read sees the same offsets: `until` is
    // resolved to offsets per read, so pass the same explicit bounds for a topic being written to)
    const counter = new VocabularyCounter();
    let first = Number.NaN;
    for await (const { event } of readHistory(source, ingestion)) {
      if (Number.isNaN(first)) first = event.timestamp;
      if (keep(event, first)) counter.add(event);
    }
    vocabulary = chooseVocabulary(counter, spec.image.pageBuckets, loaded.pageBucketsGiven);
    spec = { ...spec, image: { ...spec.image, eventTypes: vocabulary.eventTypes, pageBuckets: vocabulary.pageBuckets } };
  }
  const fractions = options.prefixFractions ?? defaultPrefixFractions;
  const hash = createHash('sha256');
  hash.update(JSON.stringify(spec));
  const labels = options.labels !== undefined ? readLabels(options.labels) : new Map<string, number>();
  if (options.labels !== undefined) hash.update(readFileSync(options.labels));
  if (options.churnAfterMs !== undefined) hash.update(`churnAfterMs=${options.churnAfterMs}`);
  const archetypePath = options.archetypes ?? (eventsFile !== undefined ? join(dirname(eventsFile), 'archetypes.csv') : undefined);
  const archetypes = archetypePath !== undefined && existsSync(archetypePath) ? readCsvPairs(archetypePath, 'sessionId,archetype', '--archetypes') : undefined;

  const store = new SessionStore(spec.image, spec.sessionization);
  const open = new Map<number, OpenSession>();
  // by the session's first offset, not its id: the gap splits a sessionId into several sessions,
  // and a later one can be open (held) while the earlier one still is
  const byStart = new Map<bigint, OpenSession>();
  const sessions: TrainingSession[] = [];
  let current: ClickEvent | undefined;
  let late = 0;
  let duplicates = 0;
  let failure: unknown;

  const onOutcome = (o: SessionEvent): void => {
    if (o.kind === 'late') {
      late++;
    } else if (o.kind === 'duplicate') {
      duplicates++;
    } else if (o.kind === 'changed') {
      // a held session let go: no event of its own
      if (o.released) return;
      let s = open.get(o.slot);
      if (!s || s.generation !== o.generation) {
        const view = store.view(o.slot);
        s = { generation: o.generation, sessionId: view.sessionId, events: [], snapshots: [] };
        open.set(o.slot, s);
        byStart.set(view.firstOffset, s);
      }
      s.events.push(current!);
      if (isSnapshotPoint(s.events.length)) s.snapshots.push(store.view(o.slot));
    } else if (o.kind === 'update') {
      // a quiet re-score (spec.sessionization.quietEveryMs): the same events, later
      byStart.get(o.firstOffset)?.snapshots.push(o);
    } else {
      const s = byStart.get(o.firstOffset);
      byStart.delete(o.firstOffset);
      const userLabel = o.userId !== null ? labels.get(o.userId) : undefined;
      const archetype = archetypes?.get(o.sessionId);
      sessions.push({
        sessionId: o.sessionId,
        userId: o.userId,
        eventCount: o.eventCount,
        final: o,
        prefixes: s ? choosePrefixes(s.snapshots, o, fractions) : [],
        summary: summariseSession(s?.events ?? []),
        label: userLabel ?? Number.NaN,
        ...(archetype !== undefined ? { archetype } : {}),
      });
      if (s) s.events = [];
    }
  };

  const input = new Subject<ClickEnvelope>();
  input.pipe(sessionize({ store, closeOnComplete: true })).subscribe({ next: onOutcome, error: (err: unknown) => (failure = err) });

  let events = 0;
  let firstEventTime = Number.NaN;
  let historyEnd = Number.NEGATIVE_INFINITY;
  const counts = emptyCounts();
  // Partitions are hashed apart (a topic's partitions interleave differently on every read) and
  // combined in partition order; a file is one partition, hashed line by line as it always was.
  const partitionHashes = new Map<number, ReturnType<typeof createHash>>();
  for await (const { event, partition, value } of readHistory(source, ingestion, counts)) {
    if (Number.isNaN(firstEventTime)) firstEventTime = event.timestamp;
    if (!keep(event, firstEventTime)) continue;
    let ph = partitionHashes.get(partition);
    if (ph === undefined) partitionHashes.set(partition, (ph = partition === 0 && source.kind === 'file' ? hash : createHash('sha256')));
    ph.update(value);
    events++;
    if (event.timestamp > historyEnd) historyEnd = event.timestamp;
    current = event;
    // a running offset: unique over partitions (training keys nothing by offset per partition)
    input.next({ event, partition, offset: BigInt(events) });
    if (failure !== undefined) throw failure;
    if (options.onProgress && events % 10_000 === 0) options.onProgress(events);
  }
  input.complete();
  if (failure !== undefined) throw failure;
  for (const [p, ph] of [...partitionHashes].sort((a, b) => a[0] - b[0])) if (ph !== hash) hash.update(`${p}:${ph.digest('hex')}`);
  if (sessions.length === 0) {
    throw new UserError(ErrorCodes.INPUT_INVALID, `${describeSource(source)}: no sessions: ${summarizeCounts(counts)}. Check the ingestion config (docs/ingestion.md); journeylens inspect proposes one.`, { exitCode: 2 });
  }
  let labelSummary: LabelSummary = options.labels !== undefined ? { source: 'file', path: options.labels } : { source: 'none' };
  if (options.churnAfterMs !== undefined) labelSummary = deriveChurnLabels(sessions, options.churnAfterMs, historyEnd);
  const labelled = sessions.filter((s) => !Number.isNaN(s.label)).length;
  return {
    spec,
    sessions,
    events,
    input: counts,
    labels: labelSummary,
    ...(vocabulary !== undefined ? { vocabulary } : {}),
    late,
    duplicates,
    labelRate: labelled / sessions.length,
    dataHash: hash.digest('hex'),
    firstEventTime,
    hasArchetypes: archetypes !== undefined && sessions.some((s) => s.archetype !== undefined),
  };
}

/**
 * Adjusted Rand index of the sessions' clusters (`clusterOf(i)`, -1 for noise) against their
 * archetypes (archetypes.csv), or null when the data has none.
 */
export function archetypeAri(data: TrainingData, clusterOf: (session: number) => number): number | null {
  if (!data.hasArchetypes) return null;
  const codes = new Map<string, number>();
  const truth: number[] = [];
  const found: number[] = [];
  data.sessions.forEach((s, i) => {
    if (s.archetype === undefined) return;
    if (!codes.has(s.archetype)) codes.set(s.archetype, codes.size);
    truth.push(codes.get(s.archetype)!);
    found.push(clusterOf(i));
  });
  return adjustedRandIndex(truth, found);
}

/** Rasterizes views into one row-major [n, H, W] buffer. */
export function rasterizeViews(views: readonly SessionView[], size: number, out = new Float32Array(views.length * size)): Float32Array {
  views.forEach((v, i) => v.rasterize(out.subarray(i * size, (i + 1) * size)));
  return out;
}
