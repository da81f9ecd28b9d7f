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
