import { describe, expect, it } from 'vitest';
import { CONNECT_DLQ_HEADERS, DLQ_HEADERS, DLQ_MESSAGE_MAX_CHARS, buildDeadLetter } from '../../../src/sinks/dead-letter.ts';
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
      '__connect.errors.topic': 'clicks-eu',
      '__connect.errors.partition': '7',
      '__connect.errors.offset': '123456789012',
      '__connect.errors.connector.name': 'journeylens',
      '__connect.errors.task.id': '0',
      '__connect.errors.stage': 'VALUE_CONVERTER',
      '__connect.errors.class.name': 'journeylens.consumers.decode',
      '__connect.errors.exception.class.name': 'journeylens.not_json',
      '__connect.errors.exception.message': 'value is not valid UTF-8, so it cannot be JSON.',
    });
  });

  it("names Kafka Connect's stages: decoding is the value converter, validation a transformation, the sessionizer the task", () => {
    const stage = (reason: Parameters<typeof buildDeadLetter>[1]) => buildDeadLetter(record('x'), reason, 'm').headers?.[CONNECT_DLQ_HEADERS.stage];
    expect(stage('unknown_schema_id')).toBe('VALUE_CONVERTER');
    expect(stage('schema_incompatible')).toBe('VALUE_CONVERTER');
    expect(stage('timestamp_future')).toBe('TRANSFORMATION');
    expect(stage('late_event')).toBe('TASK_PUT');
    // every header name is one Connect's DeadLetterQueueReporter defines (Kafka 4.4.0)
    const connect = Object.keys(buildDeadLetter(record('x'), 'not_json', 'm').headers ?? {}).filter((h) => h.startsWith('__connect.'));
    expect(connect.sort()).toEqual(
      ['topic', 'partition', 'offset', 'connector.name', 'task.id', 'stage', 'class.name', 'exception.class.name', 'exception.message'].map((s) => `__connect.errors.${s}`).sort(),
    );
  });

  it('replaces the journeylens headers of a record that was already dead-lettered once', () => {
    const again = record('x', { headers: { [DLQ_HEADERS.errorCode]: 'old', [DLQ_HEADERS.sourceTopic]: 'older-topic', '__connect.errors.stage': 'TASK_PUT', '__connect.errors.exception.stacktrace': 'at …', keep: 'me' }, topic: 'dlq', offset: 5n });
    const dl = buildDeadLetter(again, 'not_json', 'still not JSON');
    expect(dl.headers).toMatchObject({ keep: 'me', [DLQ_HEADERS.errorCode]: 'not_json', [DLQ_HEADERS.sourceTopic]: 'dlq', [DLQ_HEADERS.sourceOffset]: '5', '__connect.errors.stage': 'VALUE_CONVERTER' });
    expect(dl.headers?.['__connect.errors.exception.stacktrace']).toBeUndefined();
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
