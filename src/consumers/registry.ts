// Ingestion's side of the schema registry: writer schemas fetched by id (and resolved to the
// ClickEvent reader once per id), and the gate that keeps a batch out of ingestion until every
// writer schema it needs is here.
//
// What the registry says decides a record's fate; what it cannot say never does:
// - an id the registry does not know: the record is dead-lettered (unknown_schema_id);
// - a writer schema that cannot be read as journeylens.ClickEvent, or is not Avro: dead-lettered
//   (schema_incompatible), the same verdict for every record of that id;
// - no answer (down, timeout, 5xx), or credentials refused: nothing is dead-lettered. The
//   partition is paused, the batch is fetched again once the registry answers, and until then
//   the registry is retried with capped exponential backoff.
import { type Logger } from 'pino';
import { type Metrics } from '../metrics.ts';
import { SchemaNotFoundError, type SchemaRegistryClient, SchemaRegistryAuthError, SchemaRegistryUnavailableError } from '../schema-registry/client.ts';
import { type AvroReader, type Decoder, type RegistryReaders, createAvroReader, parseIngestSchema } from './decode.ts';
import { type Rejection } from './types.ts';

/** How long "the registry does not know id N" is believed before asking again (a producer may register it late). */
export const UNKNOWN_ID_TTL_MS = 60_000;

/** True for a failure that says nothing about the record: wait for the registry instead of dead-lettering. */
export function isRegistryOutage(err: unknown): boolean {
  return err instanceof SchemaRegistryUnavailableError || err instanceof SchemaRegistryAuthError;
}

export interface RegistryReadersOptions {
  /** Read every writer schema as a ClickEvent (resolved), or as written (a field mapping picks the fields). */
  identityMapping: boolean;
  metrics?: Metrics;
  now?: () => number;
}

/** Writer schemas by id from `client`, each parsed and resolved once; shared by the topics with the same mapping kind. */
export function registryReaders(client: SchemaRegistryClient, options: RegistryReadersOptions): RegistryReaders {
  const now = options.now ?? Date.now;
  const verdicts = new Map<number, { reader: AvroReader } | { rejection: Rejection; until: number }>();
  const count = (outcome: 'ok' | 'unknown' | 'unavailable' | 'error'): void => {
    options.metrics?.schemaRegistryRequestsTotal.inc({ outcome });
    options.metrics?.schemaRegistryUp.set(outcome === 'unavailable' ? 0 : 1);
  };
  const fetchOne = async (id: number): Promise<void> => {
    let found;
    try {
      found = await client.schemaById(id);
    } catch (err) {
      if (err instanceof SchemaNotFoundError) {
        count('unknown');
        verdicts.set(id, { rejection: { ok: false, reason: 'unknown_schema_id', message: `schema id ${id} is neither in ingestion.schemas nor in the schema registry at ${client.target}.` }, until: now() + UNKNOWN_ID_TTL_MS });
        return;
      }
      count(isRegistryOutage(err) ? 'unavailable' : 'error');
      throw err;
    }
    count('ok');
    const source = `registry id ${id}`;
    if (found.schemaType.toUpperCase() !== 'AVRO') {
      verdicts.set(id, { rejection: { ok: false, reason: 'schema_incompatible', message: `schema id ${id} in the schema registry is a ${found.schemaType} schema; journeylens reads Avro.` }, until: Infinity });
      return;
    }
    try {
      const writer = parseIngestSchema(JSON.parse(found.schema));
      verdicts.set(id, { reader: createAvroReader(writer, { identityMapping: options.identityMapping, source, option: source }) });
    } catch (err) {
      // createAvroReader words why (the field and the rule); a schema text that is not even Avro JSON says so too.
      verdicts.set(id, { rejection: { ok: false, reason: 'schema_incompatible', message: `writer schema ${source} cannot be read: ${(err as Error).message}` }, until: Infinity });
    }
  };
  return {
    get(id) {
      const v = verdicts.get(id);
      if (v === undefined) return undefined;
      if ('reader' in v) return v.reader;
      if (v.until <= now()) {
        verdicts.delete(id);
        return undefined;
      }
      return v.rejection;
    },
    async fetch(ids) {
      const results = await Promise.allSettled([...ids].map((id) => fetchOne(id)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/** What the gate pauses and resumes: the consumer. */
export interface PartitionPauser {
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
}

export interface SchemaGateOptions {
  log: Logger;
  metrics?: Metrics;
  /** Retry n waits a random delay in [½, 1] × min(max, base · 2^(n−1)); defaults 250 ms and 30 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

interface TopicPartition {
  topic: string;
  partition: number;
}

interface Held {
  tp: TopicPartition;
  values: (Buffer | null)[];
  prepare: (values: readonly (Buffer | null)[]) => Promise<void>;
}

/**
 * Stands between the consumer and ingestion: `admit(records)` resolves true once every writer
 * schema the batch needs is known (usually at once, from the cache), or false when the registry
 * cannot answer. Then the batch's partition is paused and stays so until a retry of the registry
 * succeeds; the consumer must not mark the batch consumed, so it is fetched again on resume.
 */
export class SchemaGate {
  /** topic → partition → the batch waiting for the registry. */
  private readonly heldBy = new Map<string, Map<number, Held>>();
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private downSince: number | undefined;
  private stopped = false;

  constructor(
    /** The compiled ingestion (what compileIngestion returns): the decoder of each topic. */
    private readonly ingestion: { forTopic(topic: string): { decoder: Decoder } },
    private readonly consumer: PartitionPauser,
    private readonly options: SchemaGateOptions,
  ) {}

  /** Partitions waiting for the registry. */
  get waiting(): number {
    let n = 0;
    for (const m of this.heldBy.values()) n += m.size;
    return n;
  }

  private held(): Held[] {
    return [...this.heldBy.values()].flatMap((m) => [...m.values()]);
  }

  async admit(records: readonly { topic: string; partition: number; value: Buffer | null }[]): Promise<boolean> {
    const first = records[0];
    if (first === undefined) return true;
    const { prepare } = this.ingestion.forTopic(first.topic).decoder;
    if (prepare === undefined) return true;
    const values = records.map((r) => r.value);
    // While the registry is known to be down, a batch waits with the others instead of asking again.
    if (this.downSince === undefined) {
      try {
        await prepare(values);
        return true;
      } catch (err) {
        if (!isRegistryOutage(err)) throw err;
        this.wentDown(err as Error);
      }
    }
    this.hold({ topic: first.topic, partition: first.partition }, values, prepare);
    return false;
  }

  /** Partitions lost in a rebalance: their new owner asks the registry itself. */
  revoke(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.heldBy.get(tp.topic)?.delete(tp.partition);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wentDown(err: Error): void {
    this.downSince = Date.now();
    this.attempt = 0;
    this.options.log.warn({ err: err.message }, 'schema registry unavailable: pausing the partitions whose records need a writer schema from it until it answers (nothing is dead-lettered for it)');
    this.schedule();
  }

  private hold(tp: TopicPartition, values: (Buffer | null)[], prepare: Held['prepare']): void {
    let byPartition = this.heldBy.get(tp.topic);
    if (byPartition === undefined) this.heldBy.set(tp.topic, (byPartition = new Map()));
    byPartition.set(tp.partition, { tp, values, prepare });
    this.consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
  }

  private schedule(): void {
    if (this.stopped) return;
    const base = this.options.backoffBaseMs ?? 250;
    const cap = Math.min(this.options.backoffMaxMs ?? 30_000, base * 2 ** this.attempt);
    const delay = cap * (0.5 + (this.options.random ?? Math.random)() / 2);
    this.attempt++;
    this.timer = setTimeout(() => void this.retry(), delay);
    // Waiting for the registry must not keep a stopping process alive.
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    try {
      // Everything the held batches need; a success here means they decode without another request.
      for (const h of this.held()) await h.prepare(h.values);
    } catch (err) {
      if (!isRegistryOutage(err)) {
        this.options.log.error({ err }, 'schema registry: unexpected failure while retrying; retrying again');
      } else if (this.attempt % 10 === 0) {
        this.options.log.warn({ err: (err as Error).message, attempts: this.attempt, waitingSec: Math.round((Date.now() - (this.downSince ?? Date.now())) / 1000), partitions: this.waiting }, 'schema registry still unavailable; partitions stay paused');
      }
      this.schedule();
      return;
    }
    const resumed = this.held().map((h) => h.tp);
    this.heldBy.clear();
    const downMs = Date.now() - (this.downSince ?? Date.now());
    this.downSince = undefined;
    this.attempt = 0;
    this.options.metrics?.schemaRegistryUp.set(1);
    const byTopic = new Map<string, number[]>();
    for (const tp of resumed) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    this.consumer.resume([...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
    this.options.log.info({ partitions: resumed.length, downMs }, 'schema registry answers again; resuming the paused partitions');
  }
}
