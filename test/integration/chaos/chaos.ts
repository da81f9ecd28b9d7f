// Shared bits of the chaos suite. The same tests run in two sizes: the short form in `npm test`
// (CI), the long form with the sizes under `npm run test:chaos` (CHAOS_LONG=1).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaMessage } from 'kafkajs';

export const LONG = process.env.CHAOS_LONG === '1';

/** The short-form size in `npm test`, the long-form size under CHAOS_LONG=1. */
export function size(short: number, long: number): number {
  return LONG ? long : short;
}

/** Prints a scenario's figures on stderr as one line, so CI logs and docs/reliability.md can quote them. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  process.stderr.write(`[chaos:${scenario}] ${LONG ? 'long' : 'short'} form ${JSON.stringify(figures)}\n`);
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
