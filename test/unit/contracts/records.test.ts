import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro, { type Type } from 'avsc';
import { CLOSE_REASONS } from '../../../src/journey/session-view.ts';
import {
  type ChurnAlert,
  type ClickEvent,
  type FieldKind,
  type JourneySignal,
  CHURN_ALERT_FIELDS,
  CLICK_EVENT_FIELDS,
  JOURNEY_SIGNAL_FIELDS,
  RISK_BANDS,
  churnAlertFieldSpec,
  clickEventFieldSpec,
  journeySignalFieldSpec,
} from '../../../src/contracts/records.ts';
import { churnAlertType, clickEventType, journeySignalType, schemasDir } from '../../../src/contracts/schemas.ts';

interface AvscField {
  name: string;
  type: Type & { typeName: string; types?: (Type & { typeName: string })[]; symbols?: string[] };
}
const fieldsOf = (t: Type): AvscField[] => (t as unknown as { fields: AvscField[] }).fields;

/** The TS-side view of an Avro field type: nullable union with null, and what the value is. */
function describeAvroField(f: AvscField): { nullable: boolean; kind: FieldKind } {
  let t = f.type;
  let nullable = false;
  if (t.types !== undefined) {
    const branches = t.types.filter((b) => b.typeName !== 'null');
    nullable = branches.length < t.types.length;
    expect(branches, `${f.name}: only null-or-one-type unions map to a TS type`).toHaveLength(1);
    t = branches[0]!;
  }
  const name = t.typeName.replace(/^logical:.*$/, 'long');
  const kinds: Record<string, FieldKind> = { string: 'string', enum: 'string', int: 'number', long: 'number', float: 'number', double: 'number', boolean: 'boolean', map: 'map' };
  const kind = kinds[name];
  if (kind === undefined) throw new Error(`${f.name}: Avro type ${name} has no TS mapping in this test`);
  return { nullable, kind };
}

const sampleEvent: ClickEvent = {
  eventId: 'e-1',
  sessionId: 's-1',
  userId: null,
  timestamp: 1_700_000_000_000,
  type: 'page_view',
  page: '/home',
  durationMs: 1200,
  value: null,
  properties: { referrer: 'mail' },
};

const sampleSignal: JourneySignal = {
  signalId: 'sig-1',
  sessionId: 's-1',
  userId: 'u-1',
  eventCount: 7,
  windowStart: 1_700_000_000_000,
  windowEnd: 1_700_000_060_000,
  clusterId: 3,
  clusterLabel: 'browse-then-support',
  distance: 0.42,
  novel: false,
  churnRisk: 0.71,
  riskBand: 'high',
  modelVersion: '2026.11.1',
  emittedAt: 1_700_000_061_000,
  final: false,
  closeReason: null,
};

const sampleAlert: ChurnAlert = {
  alertId: 'al-1',
  signalId: 'sig-1',
  sessionId: 's-1',
  userId: null,
  churnRisk: 0.71,
  riskBand: 'high',
  previousBand: 'medium',
  clusterId: 3,
  clusterLabel: 'browse-then-support',
  reason: 'two support contacts after checkout',
  eventCount: 7,
  modelVersion: '2026.11.1',
  emittedAt: 1_700_000_061_000,
};

const contracts = [
  { name: 'ClickEvent', type: clickEventType, fields: CLICK_EVENT_FIELDS, spec: clickEventFieldSpec, sample: sampleEvent },
  { name: 'JourneySignal', type: journeySignalType, fields: JOURNEY_SIGNAL_FIELDS, spec: journeySignalFieldSpec, sample: sampleSignal },
  { name: 'ChurnAlert', type: churnAlertType, fields: CHURN_ALERT_FIELDS, spec: churnAlertFieldSpec, sample: sampleAlert },
] as const;

describe('contracts: TypeScript types match schemas/*.avsc', () => {
  it('finds the schemas folder from src/', () => {
    expect(schemasDir()).toMatch(/[/\\]schemas[/\\]$/);
  });

  for (const c of contracts) {
    describe(c.name, () => {
      it('has the same field names, in schema order', () => {
        expect(fieldsOf(c.type()).map((f) => f.name)).toEqual([...c.fields]);
      });

      it('has the same nullability and value kind per field', () => {
        const spec = c.spec as Record<string, { nullable: boolean; kind: FieldKind }>;
        for (const f of fieldsOf(c.type())) {
          expect({ field: f.name, ...describeAvroField(f) }).toEqual({ field: f.name, ...spec[f.name] });
        }
      });

      it('accepts a sample of the TS type and round-trips it through Avro binary', () => {
        const type = c.type();
        expect(type.isValid(c.sample)).toBe(true);
        expect({ ...type.fromBuffer(type.toBuffer(c.sample)) }).toEqual(c.sample);
      });

      it('is in namespace journeylens', () => {
        expect(c.type().name).toBe(`journeylens.${c.name}`);
      });
    });
  }

  it('rejects values the TS type forbids (schema is not looser than the type)', () => {
    expect(clickEventType().isValid({ ...sampleEvent, sessionId: null })).toBe(false);
    expect(journeySignalType().isValid({ ...sampleSignal, riskBand: 'extreme' })).toBe(false);
    expect(churnAlertType().isValid({ ...sampleAlert, eventCount: 1.5 })).toBe(false);
  });

  it('CloseReason symbols equal CLOSE_REASONS, and a final signal carries one', () => {
    const f = fieldsOf(journeySignalType()).find((x) => x.name === 'closeReason')!;
    const symbols = (f.type.types!.find((b) => b.typeName === 'enum') as unknown as { symbols: string[] }).symbols;
    expect(symbols).toEqual([...CLOSE_REASONS]);
    const final = { ...sampleSignal, final: true, closeReason: 'evicted' as const };
    expect({ ...journeySignalType().fromBuffer(journeySignalType().toBuffer(final)) }).toEqual(final);
    expect(journeySignalType().isValid({ ...sampleSignal, closeReason: 'crashed' })).toBe(false);
  });

  it('reads JourneySignal records written before closeReason existed (closeReason null), and older readers skip it', () => {
    const type = journeySignalType();
    const schema = JSON.parse(readFileSync(join(schemasDir(), 'journey-signal.avsc'), 'utf8')) as { fields: { name: string }[] };
    const before = avro.Type.forSchema({ ...schema, fields: schema.fields.filter((x) => x.name !== 'closeReason') } as avro.Schema);
    const { closeReason: _none, ...old } = sampleSignal;
    expect({ ...type.fromBuffer(before.toBuffer(old), type.createResolver(before)) }).toEqual({ ...old, closeReason: null });
    expect({ ...before.fromBuffer(type.toBuffer({ ...sampleSignal, final: true, closeReason: 'idle' }), before.createResolver(type)) }).toEqual({ ...old, final: true });
  });

  it('RiskBand symbols equal RISK_BANDS in both output schemas', () => {
    for (const [type, field] of [
      [journeySignalType(), 'riskBand'],
      [churnAlertType(), 'riskBand'],
      [churnAlertType(), 'previousBand'],
    ] as const) {
      const f = fieldsOf(type).find((x) => x.name === field)!;
      expect(f.type.symbols).toEqual([...RISK_BANDS]);
    }
  });
});
