// `journeylens ui` reads what the processor writes: JSON or Avro signals and alerts; anything
// else is skipped with a reason (counted by the reader), never fatal.
import { describe, expect, it } from 'vitest';
import { type JourneySignal } from '../../../src/contracts/records.ts';
import { churnAlertType, journeySignalType } from '../../../src/contracts/schemas.ts';
import { decodeOutput } from '../../../src/console/topic-reader.ts';

const signal: JourneySignal = { signalId: 'a'.repeat(32), sessionId: 's-1', userId: null, eventCount: 3, windowStart: 1, windowEnd: 2, clusterId: -1, clusterLabel: 'novel', distance: 9.5, novel: true, churnRisk: 0.25, riskBand: 'low', modelVersion: 'm', emittedAt: 3, final: false, closeReason: null };

describe('decoding the output topics', () => {
  it('reads a signal written as JSON or as Avro to the same object', () => {
    const json = decodeOutput<JourneySignal>(Buffer.from(JSON.stringify(signal)), journeySignalType());
    const avro = decodeOutput<JourneySignal>(journeySignalType().toBuffer(signal), journeySignalType());
    expect(json).toEqual({ ok: true, value: signal });
    expect(avro.ok && { ...avro.value }).toEqual(signal);
  });

  it('refuses JSON of another shape, an alert read as a signal, and bytes that are neither', () => {
    const wrongBand = decodeOutput(Buffer.from(JSON.stringify({ ...signal, riskBand: 'extreme' })), journeySignalType());
    expect(wrongBand.ok).toBe(false);
    expect(decodeOutput(Buffer.from('{"sessionId": 1}'), journeySignalType())).toMatchObject({ ok: false, why: expect.stringContaining('not a') });
    expect(decodeOutput(Buffer.from('{not json'), journeySignalType()).ok).toBe(false);
    expect(decodeOutput(Buffer.from([0x02, 0xff, 0xff]), churnAlertType()).ok).toBe(false);
    expect(decodeOutput(Buffer.alloc(0), journeySignalType()).ok).toBe(false);
  });
});
