// A population built to need the journey image (issue 19): every session has the same multiset
// of event types and the same gap distribution, so per-type counts and time facts carry nothing;
// users who churn and users who stay differ only in the ORDER of their steps:
//  - 'local':  churners add an item and remove it at the next step (add_to_cart →
//              remove_from_cart, twice), the others remove first (remove_from_cart → add_to_cart);
//  - 'global': churners do their four cart steps in the first third of the session, the others
//              in the last third (a front- vs back-loaded session).
// The label follows the pattern with probability 1 − labelNoise, which caps any model's ROC AUC
// near 1 − labelNoise. One session per user; files in the layout `journeylens train` reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClickEvent } from '../contracts/records.ts';
import { Rng } from '../util/prng.ts';
import { LABELS_HEADER, SIMULATION_FILES } from './files.ts';

export type OrderPattern = 'local' | 'global';

export interface OrderCaseOptions {
  sessions: number;
  seed: number;
  pattern: OrderPattern;
  /** Share of labels flipped (default 0.1). */
  labelNoise?: number;
  /** Time of the first session (ms); sessions start 5 minutes apart. */
  start?: number;
}

/** The eight steps besides the cart steps, shuffled per session. */
const OTHER_STEPS = ['product_view', 'product_view', 'product_view', 'product_view', 'page_view', 'page_view', 'search', 'checkout'] as const;

/** One session's event types, in order, and whether its user churns (before label noise). */
function orderSession(rng: Rng, pattern: OrderPattern): { types: string[]; churner: boolean } {
  const churner = rng.next() < 0.5;
  const others: string[] = [...OTHER_STEPS];
  for (let i = others.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  if (pattern === 'local') {
    const pair = churner ? ['add_to_cart', 'remove_from_cart'] : ['remove_from_cart', 'add_to_cart'];
    const a = rng.int(0, others.length);
    const b = rng.int(0, others.length);
    const types = [...others];
    types.splice(Math.max(a, b), 0, ...pair);
    types.splice(Math.min(a, b), 0, ...pair);
    return { types, churner };
  }
  const cart = ['add_to_cart', 'remove_from_cart', 'add_to_cart', 'remove_from_cart'];
  const types = churner ? [...others.slice(0, 1), ...cart, ...others.slice(1)] : [...others.slice(0, 7), ...cart, ...others.slice(7)];
  return { types, churner };
}

/** The population as events (event-time order) and labels. */
export function orderCase(options: OrderCaseOptions): { events: ClickEvent[]; labels: { userId: string; churned: boolean }[] } {
  const rng = new Rng(options.seed);
  const noise = options.labelNoise ?? 0.1;
  const t0 = options.start ?? Date.UTC(2026, 0, 5);
  const events: ClickEvent[] = [];
  const labels: { userId: string; churned: boolean }[] = [];
  for (let u = 0; u < options.sessions; u++) {
    const { types, churner } = orderSession(rng, options.pattern);
    const userId = `u${options.seed}-${u}`;
    let t = t0 + u * 5 * 60_000 + rng.int(0, 60_000);
    types.forEach((type, i) => {
      t += 20_000 + rng.int(0, 60_000);
      events.push({ eventId: `${userId}-${i}`, sessionId: `${userId}-s`, userId, timestamp: t, type, page: null, durationMs: null, value: null, properties: {} });
    });
    labels.push({ userId, churned: rng.next() < noise ? !churner : churner });
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  return { events, labels };
}

/** Writes `dir`/events.jsonl and `dir`/labels.csv of an order case. */
export function writeOrderCaseFiles(dir: string, options: OrderCaseOptions): void {
  const { events, labels } = orderCase(options);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, SIMULATION_FILES.eventsJsonl), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  writeFileSync(join(dir, SIMULATION_FILES.labels), `${[LABELS_HEADER, ...labels.map((l) => `${l.userId},${l.churned ? 1 : 0}`)].join('\n')}\n`);
}
