// Heap bytes per open session: the compact SessionStore (H = 32 rows of packed steps) against
// two baselines measured in the same run, because these machines are noisy:
//  - mapOfRecords: a plain Map of small per-session records (counters only, no window): the floor
//    for any per-session state kept in JS objects;
//  - groupByScan: RxJS groupBy + scan, one group (and subscriber chain) per session.
// All three hold the same three strings per session (session id, user id, last event id).
//
//   node --expose-gc --import tsx bench/session-memory.ts [--quick]
// Prints one JSON object. Bytes = V8 heap used + ArrayBuffer backing stores, after a full GC.
import { Subject, from, groupBy, mergeMap, scan } from 'rxjs';
import { type ClickEvent } from '../src/contracts/records.ts';
import { defaultImageSpec, defaultSessionizationSpec } from '../src/journey/image-spec.ts';
import { type ClickEnvelope } from '../src/streams/outcomes.ts';
import { journeySessions } from '../src/streams/journey-sessions.ts';
import { type ClosedSession, SessionStore } from '../src/streams/session-store.ts';

const quick = process.argv.includes('--quick');
const sizes = quick ? [100_000] : [100_000, 1_000_000];
const sessions = sizes[sizes.length - 1]!;
const eventsPerSession = 8;
const groupBySessions = quick ? 10_000 : 50_000;
const rows = 32;
const targetBytesPerSession = 512;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('session-memory: run with node --expose-gc (e.g. node --expose-gc --import tsx bench/session-memory.ts)\n');
  process.exit(2);
}

function usedBytes(): { heap: number; arrayBuffers: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

const types = defaultImageSpec.eventTypes;
const t0 = 1_700_000_000_000;

// Ids are short (< 13 chars) so V8 stores them as flat strings, as JSON.parse would.
function event(i: number, k: number): ClickEvent {
  return {
    eventId: `e-${i}-${k}`,
    sessionId: `s-${i}`,
    userId: `u-${i % 400_000}`,
    timestamp: t0 + k * 15_000 + (i % 1000),
    type: types[(i + k) % types.length]!,
    page: `/p/${(i + k) % 50}`,
    durationMs: 500 + ((i * 7 + k) % 20_000),
    value: k === 5 ? 19.99 : null,
    properties: {},
  };
}

function measure<T>(n: number, build: () => T): { bytesPerSession: number; heapBytes: number; arrayBufferBytes: number; eventsPerSecond: number; keep: T } {
  const before = usedBytes();
  const start = performance.now();
  const keep = build();
  const seconds = (performance.now() - start) / 1000;
  const after = usedBytes();
  const heapBytes = after.heap - before.heap;
  const arrayBufferBytes = after.arrayBuffers - before.arrayBuffers;
  return {
    bytesPerSession: Math.round((heapBytes + arrayBufferBytes) / n),
    heapBytes,
    arrayBufferBytes,
    eventsPerSecond: Math.round((n * eventsPerSession) / seconds),
    keep,
  };
}

// ---- the compact store, at each size ------------------------------------------------------------
function measureStore(n: number) {
  const result = measure(n, () => {
    const store = new SessionStore({ ...defaultImageSpec, rows }, defaultSessionizationSpec, { initialCapacity: n });
    const closed: ClosedSession[] = [];
    let offset = 0;
    for (let k = 0; k < eventsPerSession; k++) {
      for (let i = 0; i < n; i++) store.offer(event(i, k), i % 12, BigInt(offset++), -Infinity, closed);
    }
    if (store.size !== n || closed.length !== 0) throw new Error(`store holds ${store.size} sessions, expected ${n}`);
    return store;
  });
  const { keep, ...figures } = result;
  const capacity = keep.capacity;
  result.keep = undefined as unknown as SessionStore;
  return { sessions: n, capacity, ...figures };
}
const storeBySize = sizes.map(measureStore);
const { sessions: _n, capacity: storeCapacity, ...storeFigures } = storeBySize[storeBySize.length - 1]!;

// ---- baseline 1: a Map of small records --------------------------------------------------------
interface SmallRecord {
  userId: string | null;
  lastEventId: string;
  count: number;
  first: number;
  last: number;
}
const mapResult = measure(sessions, () => {
  const m = new Map<string, SmallRecord>();
  for (let k = 0; k < eventsPerSession; k++) {
    for (let i = 0; i < sessions; i++) {
      const e = event(i, k);
      const r = m.get(e.sessionId);
      if (r) {
        r.count++;
        r.last = Math.max(r.last, e.timestamp);
        r.first = Math.min(r.first, e.timestamp);
        r.lastEventId = e.eventId;
      } else {
        m.set(e.sessionId, { userId: e.userId, lastEventId: e.eventId, count: 1, first: e.timestamp, last: e.timestamp });
      }
    }
  }
  return m;
});
const { keep: _map, ...mapFigures } = mapResult;
mapResult.keep = undefined as unknown as Map<string, SmallRecord>;

// ---- baseline 2: groupBy + scan, one group per session -----------------------------------------
const groupResult = measure(groupBySessions, () => {
  const input = new Subject<ClickEvent>();
  let emitted = 0;
  const sub = input
    .pipe(
      groupBy((e) => e.sessionId),
      mergeMap((g) =>
        g.pipe(
          scan(
            (r: SmallRecord, e: ClickEvent) => ({ userId: r.userId ?? e.userId, lastEventId: e.eventId, count: r.count + 1, first: Math.min(r.first, e.timestamp), last: Math.max(r.last, e.timestamp) }),
            { userId: null, lastEventId: '', count: 0, first: Infinity, last: -Infinity } as SmallRecord,
          ),
        ),
      ),
    )
    .subscribe(() => emitted++);
  for (let k = 0; k < eventsPerSession; k++) for (let i = 0; i < groupBySessions; i++) input.next(event(i, k));
  if (emitted !== groupBySessions * eventsPerSession) throw new Error('groupBy baseline lost events');
  return { input, sub };
});
const { keep: groups, ...groupFigures } = groupResult;

// ---- the whole operator (sessionize + micro-batch), for events/s through RxJS ------------------
const pipelineSessions = quick ? 20_000 : 100_000;
function* envelopes(): Generator<ClickEnvelope> {
  let offset = 0;
  for (let k = 0; k < eventsPerSession; k++) for (let i = 0; i < pipelineSessions; i++) yield { event: event(i, k), partition: i % 12, offset: BigInt(offset++) };
}
const pipelineStore = new SessionStore({ ...defaultImageSpec, rows }, defaultSessionizationSpec, { initialCapacity: pipelineSessions });
let updates = 0;
let closes = 0;
const pipelineStart = performance.now();
from(envelopes())
  .pipe(journeySessions({ store: pipelineStore, maxBatch: 256 }))
  .subscribe((o) => {
    if (o.kind === 'update') updates++;
    else if (o.kind === 'close') closes++;
  });
const pipelineSeconds = (performance.now() - pipelineStart) / 1000;
if (closes !== pipelineSessions) throw new Error(`pipeline closed ${closes} sessions, expected ${pipelineSessions}`);

process.stdout.write(
  `${JSON.stringify({
    bench: 'session-memory',
    quick,
    rows,
    eventsPerSession,
    store: { sessions, capacity: storeCapacity, ...storeFigures },
    storeBySize,
    baselines: {
      mapOfRecords: { sessions, windowRows: 0, ...mapFigures },
      groupByScan: { sessions: groupBySessions, windowRows: 0, ...groupFigures },
    },
    pipeline: { sessions: pipelineSessions, events: pipelineSessions * eventsPerSession, updates, eventsPerSecond: Math.round((pipelineSessions * eventsPerSession) / pipelineSeconds) },
    targetBytesPerSession,
    meetsTarget: storeBySize.every((r) => r.bytesPerSession <= targetBytesPerSession),
  })}\n`,
);
groups.sub.unsubscribe();

