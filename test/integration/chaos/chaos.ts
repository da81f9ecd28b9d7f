// Shared bits of the chaos suite. The same tests run in two sizes: the short form in `npm test`
// (CI), the long form with the sizes under `npm run test:chaos` (CHAOS_LONG=1).
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka, type KafkaMessage } from 'kafkajs';

export const LONG = process.env.CHAOS_LONG === '1';

/** The short-form size in `npm test`, the long-form size under CHAOS_LONG=1. */
export function size(short: number, long: number): number {
  return LONG ? long : short;
}

/**
 * Prints a scenario's figures on stderr as one line, so CI logs can quote them; under
 * `npm run chaos:doc` (CHAOS_RESULTS set) also appends them to that file, from which
 * tools/chaos-doc.ts writes docs/reliability.md.
 */
export function report(scenario: string, figures: Record<string, unknown>): void {
  process.stderr.write(`[chaos:${scenario}] ${LONG ? 'long' : 'short'} form ${JSON.stringify(figures)}\n`);
  const file = process.env.CHAOS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, form: LONG ? 'long' : 'short', at: new Date().toISOString(), figures })}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `jl-chaos-${prefix}-`));
}

export function writeJson(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value));
  return file;
}

export interface SignalLite {
  signalId: string;
  sessionId: string;
  eventCount: number;
  final: boolean;
}

export function parseSignals(messages: KafkaMessage[]): SignalLite[] {
  return messages.map((m) => JSON.parse(String(m.value)) as SignalLite);
}

/** Highest event count seen per session. */
export function maxCounts(signals: SignalLite[]): Map<string, number> {
  const best = new Map<string, number>();
  for (const s of signals) best.set(s.sessionId, Math.max(best.get(s.sessionId) ?? 0, s.eventCount));
  return best;
}

/** Session i starts at t0 + i·spacing and has `per` events 30 s apart: sessions close all along the stream. */
export function sessionStream(sessions: number, per: number, t0: number): { key: string; value: string; ts: number }[] {
  const spacing = 20_000;
  const out: { key: string; value: string; ts: number }[] = [];
  for (let s = 0; s < sessions; s++) {
    for (let j = 0; j < per; j++) {
      const ts = t0 + s * spacing + j * 30_000;
      const e = { eventId: `e-${s}-${j}`, sessionId: `s-${s}`, userId: `u-${s % 97}`, timestamp: ts, type: j % 5 === 4 ? 'add_to_cart' : 'page_view', page: `/p/${(s + j) % 11}`, durationMs: 1000 + j, value: null, properties: {} };
      out.push({ key: e.sessionId, value: JSON.stringify(e), ts });
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/**
 * Gives group `to` exactly what group `from` committed, offsets WITH their commit metadata (the
 * replay marks): what the same group would resume from. admin.setOffsets cannot carry metadata,
 * so a member of `to` commits them itself and leaves (a clean leave: the next member joins at once).
 */
export async function copyOffsets(kafka: Kafka, from: string, to: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let committed: { partition: number; offset: string; metadata: string | null }[];
  try {
    const [t] = await admin.fetchOffsets({ groupId: from, topics: [topic] });
    committed = (t?.partitions ?? []).filter((p) => Number(p.offset) >= 0);
  } finally {
    await admin.disconnect();
  }
  if (committed.length === 0) return 0;
  const consumer = kafka.consumer({ groupId: to, sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
  await consumer.connect();
  try {
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    consumer.pause([{ topic }]);
    await joined;
    await consumer.commitOffsets(committed.map((p) => ({ topic, partition: p.partition, offset: p.offset, metadata: p.metadata })));
  } finally {
    await consumer.disconnect();
  }
  return committed.filter((p) => p.metadata?.startsWith('jl1:')).length;
}
