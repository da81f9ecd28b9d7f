// Does the model fit the traffic? A model only knows the event types of the data it was trained
// on; every other type lands in the image's "other" column, and sessions unlike any training
// session come out `novel`. When most events are of unknown types or most signals are novel, the
// signals say little, and nothing else would tell the user why: this counts both, logs the
// unknown-type share at the first report and then periodically, and warns with the fix (map the
// type names, or train a model on this data).
import { type Logger } from 'pino';
import { type Metrics } from '../metrics.ts';

export interface ModelFitOptions {
  /** The model's event-type vocabulary (the image spec's eventTypes). */
  eventTypes: readonly string[];
  log: Logger;
  metrics?: Metrics;
  /** Time between share reports (ms). */
  reportEveryMs?: number;
  /** Events before the first report (it also comes at the first reportEveryMs). */
  firstReportAfter?: number;
  now?: () => number;
}

export const modelFitDefaults = {
  reportEveryMs: 60_000,
  firstReportAfter: 1_000,
  /** Above these shares the model "does not fit": most events unknown, or most signals novel. */
  unknownShareWarn: 0.5,
  novelShareWarn: 0.5,
  /** Too few to judge below these. */
  minEvents: 200,
  minSignals: 50,
  /** Distinct unknown type names remembered for the report (a wrongly mapped field must not grow memory). */
  maxNamesTracked: 200,
} as const;

export const TRAIN_HINT =
  'map your type names to the model’s with ingestion.mapping.type.values (docs/ingestion.md), or train a model on your own data: ' +
  'journeylens train --config CONFIG --brokers HOST:PORT --topic TOPIC --churn-after 14d --out BUNDLE, then run with --bundle BUNDLE (docs/quickstart.md)';

const pct = (n: number, d: number): string => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;

export class ModelFit {
  readonly #known: ReadonlySet<string>;
  readonly #o: Required<Omit<ModelFitOptions, 'metrics'>> & Pick<ModelFitOptions, 'metrics'>;
  readonly #unknownNames = new Map<string, number>();
  #untracked = 0;
  #events = 0;
  #unknown = 0;
  #signals = 0;
  #novel = 0;
  #lastReport: number;
  #reportedEvents = 0;
  #reports = 0;

  constructor(options: ModelFitOptions) {
    this.#known = new Set(options.eventTypes);
    const now = options.now ?? Date.now;
    this.#o = { reportEveryMs: modelFitDefaults.reportEveryMs, firstReportAfter: modelFitDefaults.firstReportAfter, now, ...options };
    this.#lastReport = now();
    options.log.info(
      { eventTypes: options.eventTypes },
      `the model knows ${options.eventTypes.length} event types; events of any other type share its "other" column and are counted in journeylens_events_unknown_type_total`,
    );
  }

  /** One event handed to the sessionizer. */
  observeEvent(topic: string, type: string): void {
    this.#events++;
    if (this.#known.has(type)) return;
    this.#unknown++;
    this.#o.metrics?.unknownTypeTotal.inc({ topic });
    const seen = this.#unknownNames.get(type);
    if (seen !== undefined) this.#unknownNames.set(type, seen + 1);
    else if (this.#unknownNames.size < modelFitDefaults.maxNamesTracked) this.#unknownNames.set(type, 1);
    else this.#untracked++;
  }

  observeSignal(novel: boolean): void {
    this.#signals++;
    if (novel) this.#novel++;
  }

  get shares(): { events: number; unknown: number; signals: number; novel: number } {
    return { events: this.#events, unknown: this.#unknown, signals: this.#signals, novel: this.#novel };
  }

  /** Called once per tick: logs when a report is due. */
  maybeReport(): void {
    if (this.#events === this.#reportedEvents) return;
    const now = this.#o.now();
    const first = this.#reports === 0 && this.#events >= this.#o.firstReportAfter;
    if (!first && now - this.#lastReport < this.#o.reportEveryMs) return;
    this.report(now);
  }

  /** Logs the shares now (also at shutdown). */
  report(now = this.#o.now()): void {
    this.#lastReport = now;
    this.#reportedEvents = this.#events;
    this.#reports++;
    const top = [...this.#unknownNames].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
    const topText = top.map(([t, n]) => `${t} ${n}`).join(', ') + (this.#untracked > 0 ? `, and ${this.#untracked} more of rarer types` : '');
    const fields = { events: this.#events, unknownTypeEvents: this.#unknown, unknownTypeShare: this.#unknown / Math.max(1, this.#events), signals: this.#signals, novelSignals: this.#novel };
    const unknownText = `${pct(this.#unknown, this.#events)} of ${this.#events} events have an event type the model does not know${top.length > 0 ? ` (${topText})` : ''}`;
    const problems: string[] = [];
    if (this.#events >= modelFitDefaults.minEvents && this.#unknown / this.#events > modelFitDefaults.unknownShareWarn) problems.push(unknownText);
    if (this.#signals >= modelFitDefaults.minSignals && this.#novel / this.#signals > modelFitDefaults.novelShareWarn) {
      problems.push(`${pct(this.#novel, this.#signals)} of ${this.#signals} signals are novel (unlike every session the model was trained on)`);
    }
    if (problems.length > 0) this.#o.log.warn(fields, `the model does not fit this data: ${problems.join('; ')}. Its clusters and churn risks say little here: ${TRAIN_HINT}.`);
    else this.#o.log.info(fields, unknownText);
  }
}
