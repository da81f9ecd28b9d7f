import { describe, expect, it } from 'vitest';
import { chunkRecords, type OutRecord, recordBytes } from '../../../src/sinks/kafka-sink.ts';

describe('chunkRecords', () => {
  it('counts headers, so dead letters with a dozen error headers never make a request past the limit', () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 12; i++) headers[`__connect.errors.header.${i}`] = 'x'.repeat(200);
    const records: OutRecord[] = Array.from({ length: 3000 }, (_, i) => ({ topic: 'dlq', key: `k${i}`, value: Buffer.alloc(100), headers }));
    expect(recordBytes(records[0]!)).toBeGreaterThan(12 * 200);
    const chunks = chunkRecords(records, 512 * 1024);
    expect(chunks.flat()).toHaveLength(3000);
    for (const c of chunks) expect(c.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(512 * 1024);
    // without the headers the same records would have fitted in two requests
    expect(chunks.length).toBeGreaterThan(10);
  });

  it('keeps order and puts a single oversized record in a request of its own', () => {
    const records: OutRecord[] = [
      { topic: 't', key: 'a', value: 'x' },
      { topic: 't', key: 'b', value: Buffer.alloc(600 * 1024) },
      { topic: 't', key: 'c', value: 'y' },
    ];
    expect(chunkRecords(records, 512 * 1024).map((c) => c.map((r) => r.key))).toEqual([['a'], ['b'], ['c']]);
  });
});
