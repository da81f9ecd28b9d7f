// The one loader of the contract schemas (schemas/*.avsc): their JSON and avsc types, parsed
// once per process, and a deterministic Avro object-container-file writer for ClickEvents.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// avsc is CommonJS: Node's ESM loader only offers its default export.
import avsc, { type Type, type streams } from 'avsc';
import { ErrorCodes, JourneylensError } from '../errors.ts';

// This file runs as src/contracts/schemas.ts (tsx, vitest) and as dist/src/contracts/schemas.js
// (build), and the package ships schemas/ at its root: look two and three levels up.
const CANDIDATES = ['../../schemas/', '../../../schemas/'];

let dir: string | undefined;

/** Absolute path of the schemas/ folder (with a trailing slash). */
export function schemasDir(): string {
  if (dir !== undefined) return dir;
  for (const rel of CANDIDATES) {
    const candidate = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${candidate}click-event.avsc`)) return (dir = candidate);
  }
  throw new JourneylensError(ErrorCodes.INTERNAL, `schemas/click-event.avsc not found next to ${fileURLToPath(import.meta.url)}; the package is incomplete.`);
}

/** What avsc's Type.forSchema accepts. */
export type AvroSchema = Parameters<typeof avsc.Type.forSchema>[0];
/** What Type#createResolver returns. */
export type AvroResolver = ReturnType<Type['createResolver']>;

export const CONTRACT_SCHEMAS = {
  clickEvent: 'click-event.avsc',
  journeySignal: 'journey-signal.avsc',
  churnAlert: 'churn-alert.avsc',
} as const;
export type ContractName = keyof typeof CONTRACT_SCHEMAS;

const jsonCache = new Map<ContractName, Record<string, unknown>>();
const typeCache = new Map<ContractName, Type>();

/** The schema file's JSON, with docs and defaults (avsc's Type#schema() drops defaults). */
export function contractSchema(name: ContractName): Readonly<Record<string, unknown>> {
  let json = jsonCache.get(name);
  if (json === undefined) {
    json = JSON.parse(readFileSync(`${schemasDir()}${CONTRACT_SCHEMAS[name]}`, 'utf8')) as Record<string, unknown>;
    jsonCache.set(name, json);
  }
  return json;
}

/** The parsed avsc type of a contract schema. Each file gets its own registry: they all define journeylens.RiskBand. */
export function contractType(name: ContractName): Type {
  let type = typeCache.get(name);
  if (type === undefined) {
    type = avsc.Type.forSchema(contractSchema(name) as AvroSchema);
    typeCache.set(name, type);
  }
  return type;
}

export const clickEventType = (): Type => contractType('clickEvent');
export const journeySignalType = (): Type => contractType('journeySignal');
export const churnAlertType = (): Type => contractType('churnAlert');

/**
 * An Avro container encoder of ClickEvents (pipe it to a file). avsc picks a random sync marker
 * by default; a seeded one (`syncMarker`, 16 bytes) keeps `simulate` output byte-identical.
 */
export function createClickEventEncoder(syncMarker: Buffer): streams.BlockEncoder {
  return new avsc.streams.BlockEncoder(clickEventType(), { syncMarker, codec: 'null' });
}
