// The processor's producer (@platformatic/kafka) must put every key on the partition kafkajs's
// default partitioner put it on before (downstream readers and our tests rely on keyed
// partitioning), spread keyless records, carry headers, and tell final broker errors from the
// ones worth waiting for, as the delivery retries expect of kafkajs's errors.
import { randomBytes } from 'node:crypto';
import { MultipleErrors, murmur2, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriable } from '../../../src/processor/checkpoint/delivery.ts';
import { keyedPartitioner, toMessage } from '../../../src/sinks/platformatic-sink.ts';

const kafkajsPartitioner = Partitioners.DefaultPartitioner();
function kafkajsPartition(key: Buffer, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return kafkajsPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('keyedPartitioner', () => {
  it('puts every key on the partition kafkajs puts it on (murmur2, sign bit masked)', () => {
    const keys: Buffer[] = [Buffer.alloc(0), Buffer.from('s-1'), Buffer.from('ünïcødé-user'), Buffer.from('00000000-0000-4000-8000-000000000000')];
    for (let i = 0; i < 3000; i++) keys.push(randomBytes(1 + (i % 40)));
    for (let i = 0; i < 2000; i++) keys.push(Buffer.from(`session-${i}`));
    const partitioner = keyedPartitioner();
    let signBitSet = 0;
    for (const partitions of [1, 2, 3, 6, 7, 12, 50]) {
      for (const key of keys) {
        const raw = partitioner({ topic: 't', key }, key, { metadata: undefined });
        // the producer takes what the partitioner returns modulo the topic's partition count
        expect(raw % partitions, `${key.toString('hex')} of ${partitions}`).toBe(kafkajsPartition(key, partitions));
        expect(raw).toBeGreaterThanOrEqual(0);
      }
    }
    // the keys reach the case the mask is for (a plain unsigned hash would differ on these)
    for (const key of keys) if (murmur2(key) < 0 || murmur2(key) > 0x7fffffff) signBitSet++;
    expect(signBitSet).toBeGreaterThan(1000);
  });

  it('spreads records without a key over the partitions in turn, per topic', () => {
    const partitioner = keyedPartitioner();
    const a = Array.from({ length: 6 }, () => partitioner({ topic: 'a' }, undefined, { metadata: undefined }) % 3);
    const b = partitioner({ topic: 'b' }, undefined, { metadata: undefined }) % 3;
    expect(a).toEqual([0, 1, 2, 0, 1, 2]);
    expect(b).toBe(0);
  });
});

describe('toMessage', () => {
  it('turns strings into bytes, leaves null keys and values out, and writes one header per value', () => {
    const m = toMessage({ topic: 'dlq', key: null, value: 'v', headers: { one: 'x', many: ['1', Buffer.from('2')], unset: undefined } });
    expect(m.key).toBeUndefined();
    expect(m.value).toEqual(Buffer.from('v'));
    const headers = [...(m.headers as Map<Buffer, Buffer>)].map(([k, v]) => [k.toString(), v.toString()]);
    expect(headers).toEqual([
      ['one', 'x'],
      ['many', '1'],
      ['many', '2'],
    ]);
    expect(toMessage({ topic: 't', key: 'k', value: null })).toEqual({ topic: 't', key: Buffer.from('k') });
  });
});

describe('isRetriable with @platformatic/kafka errors', () => {
  it('gives up on a final protocol error inside the attempts and partitions it gathered', () => {
    const tooLarge = new ProtocolError('MESSAGE_TOO_LARGE');
    expect(isRetriable(tooLarge)).toBe(false);
    expect(isRetriable(new MultipleErrors('Producing messages failed.', [new MultipleErrors('produce failed 1 times.', [tooLarge])]))).toBe(false);
    expect(isRetriable(new ResponseError(0, 9, { '/responses/0/partitionResponses/0': [10, null] }, {}))).toBe(false);
  });

  it('waits for a broker that is down or a leader that moved', () => {
    expect(isRetriable(new MultipleErrors('produce failed 9 times.', [new NetworkError('Connection closed'), new ProtocolError('NOT_LEADER_OR_FOLLOWER')]))).toBe(true);
    expect(isRetriable(new ResponseError(0, 9, { '/responses/0/partitionResponses/0': [6, null] }, {}))).toBe(true);
  });
});
