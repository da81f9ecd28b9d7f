import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, DLQ_MESSAGE_MAX_CHARS, buildDeadLetter } from '../../../src/sinks/dead-letter.ts';
import { ingest } from '../../../src/consumers/ingest.ts';
import { ingestion, record } from '../consumers/fixtures.ts';

describe('dead letters', () => {
  it('keep the original key, value and headers untouched and add the error and source headers', () => {
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const original = record(value, {
      topic: 'clicks-eu',
      partition: 7,
      offset: 123456789012n,
      key: Buffer.from('session-9'),
      headers: { traceparent: '00-abc-def-01', 'content-type': Buffer.from('application/json'), multi: ['a', Buffer.from('b')] },
      timestamp: '1763812800000',
    });
    const r = ingest(original, ingestion());
    if (r.kind !== 'dead') throw new Error(`expected a dead letter, got ${r.kind}`);
    const dl = buildDeadLetter(original, r.reason, r.message);
    expect(dl.key).toBe(original.key);
    expect(dl.value).toBe(original.value);
    expect(dl.partition).toBeUndefined();
    expect(dl.timestamp).toBeUndefined();
    expect(dl.headers).toEqual({
      traceparent: '00-abc-def-01',
      'content-type': Buffer.from('application/json'),
      multi: ['a', Buffer.from('b')],
      'x-journeylens-error-code': 'not_json',
      'x-journeylens-error-message': 'value is not valid UTF-8, so it cannot be JSON.',
      'x-journeylens-source-topic': 'clicks-eu',
      'x-journeylens-source-partition': '7',
      'x-journeylens-source-offset': '123456789012',
      'x-journeylens-source-timestamp': '1763812800000',
    });
  });

  it('replaces the journeylens headers of a record that was already dead-lettered once', () => {
    const again = record('x', { headers: { [DLQ_HEADERS.errorCode]: 'old', [DLQ_HEADERS.sourceTopic]: 'older-topic', keep: 'me' }, topic: 'dlq', offset: 5n });
    const dl = buildDeadLetter(again, 'not_json', 'still not JSON');
    expect(dl.headers).toMatchObject({ keep: 'me', [DLQ_HEADERS.errorCode]: 'not_json', [DLQ_HEADERS.sourceTopic]: 'dlq', [DLQ_HEADERS.sourceOffset]: '5' });
  });

  it('keeps a null key and a null value (late tombstones), and caps the message', () => {
    const dl = buildDeadLetter(record(null, { key: null }), 'late_event', 'y'.repeat(5000));
    expect(dl.key).toBeNull();
    expect(dl.value).toBeNull();
    const msg = dl.headers?.[DLQ_HEADERS.errorMessage] as string;
    expect(msg).toHaveLength(DLQ_MESSAGE_MAX_CHARS);
    expect(msg.endsWith('…')).toBe(true);
  });
});
