// `simulate --out DIR`: the simulation as files. Every file is a pure function of the
// options, so the same seed gives byte-identical output.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { ErrorCodes, UserError } from '../errors.ts';
import { createClickEventEncoder } from '../contracts/schemas.ts';
import { type SimulationOptions, Simulation } from './generator.ts';
import { LineWriter, writeWithBackpressure } from './output.ts';
import { fnv1a32 } from '../util/hash.ts';
import { Rng } from '../util/prng.ts';
import { type SimulationSummary, SimulationStats } from './stats.ts';

/** The labels file header: one row per user, churned is 1 or 0. The trainer reads this. */
export const LABELS_HEADER = 'userId,churned';
/** The ground-truth archetype per session. */
export const ARCHETYPES_HEADER = 'sessionId,archetype';

export const SIMULATION_FILES = {
  eventsJsonl: 'events.jsonl',
  eventsAvro: 'events.avro',
  labels: 'labels.csv',
  archetypes: 'archetypes.csv',
} as const;

export interface WriteSimulationOptions extends SimulationOptions {
  sessions: number;
  outDir: string;
  /** Called as sessions start; `done` counts started sessions. */
  onProgress?: (done: number, total: number) => void;
}

export async function writeSimulationFiles(options: WriteSimulationOptions): Promise<SimulationSummary> {
  const sim = new Simulation(options);
  try {
    mkdirSync(options.outDir, { recursive: true });
  } catch (err) {
    throw new UserError(ErrorCodes.CONFIG_INVALID, `--out ${options.outDir}: cannot create the directory (${(err as Error).message}); pick a writable path.`, { exitCode: 2, cause: err });
  }
  const path = (name: string): string => join(options.outDir, name);
  const jsonl = new LineWriter(path(SIMULATION_FILES.eventsJsonl));
  const archetypes = new LineWriter(path(SIMULATION_FILES.archetypes));
  const syncMarker = new Rng(fnv1a32('avro-sync', sim.options.seed)).bytes(16);
  const avro = createClickEventEncoder(syncMarker);
  const avroFile = createWriteStream(path(SIMULATION_FILES.eventsAvro));
  avro.pipe(avroFile);
  const stats = new SimulationStats();
  await archetypes.line(ARCHETYPES_HEADER);
  let started = 0;
  for (const item of sim.events()) {
    stats.add(item);
    await jsonl.line(JSON.stringify(item.event));
    await writeWithBackpressure(avro, item.event);
    if (item.step === 0) {
      await archetypes.line(`${item.event.sessionId},${item.archetype}`);
      started++;
      if (options.onProgress && (started % 100 === 0 || started === options.sessions)) options.onProgress(started, options.sessions);
    }
  }
  avro.end();
  await Promise.all([jsonl.close(), archetypes.close(), finished(avroFile)]);

  const labels = new LineWriter(path(SIMULATION_FILES.labels));
  await labels.line(LABELS_HEADER);
  for (const u of sim.users) await labels.line(`${u.userId},${u.churned ? 1 : 0}`);
  await labels.close();
  return stats.summary(sim.users);
}
