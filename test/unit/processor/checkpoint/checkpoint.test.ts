// The checkpoint's commit when the consumer group moves on under it. Offset commits that land
// while the group rebalances are refused by the coordinator with errors kafkajs calls final
// (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID); under load, with a second
// instance joining (test/integration/chaos/rebalance.test.ts), that failed the pipeline for good.
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/log.ts';
import { Checkpoint } from '../../../../src/processor/checkpoint/checkpoint.ts';
import { isGroupMovedOn, isRetriable } from '../../../../src/processor/checkpoint/delivery.ts';
import { type OutRecord } from '../../../../src/sinks/kafka-sink.ts';
import { type TopicPartitionOffset } from '../../../../src/consumers/source.ts';

/** A protocol error as kafkajs' consumer hands it on: wrapped by its retrier. */
function refused(type: string, code: number): Error {
  const protocol = new KafkaJSProtocolError({ message: `refused: ${type}`, type, code, retriable: false } as unknown as Error);
  return Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol });
}

function harness(commitErrors: Error[]) {
  const sent: OutRecord[][] = [];
  const commits: TopicPartitionOffset[][] = [];
  const calls = { pause: 0, resume: 0 };
  const checkpoint = new Checkpoint({
    source: {
      commit: async (offsets) => {
        const err = commitErrors.shift();
        if (err) throw err;
        commits.push(offsets);
      },
      committed: async () => [],
      pause: () => void calls.pause++,
      resume: () => void calls.resume++,
    },
    sink: {
      send: async (out) => void sent.push(out),
      commitWith: async () => undefined,
    },
    group: 'g',
    exactlyOnce: false,
    maxInFlight: 4,
    heldFrom: () => undefined,
    log: createLogger({ level: 'silent' }),
  });
  return { checkpoint, sent, commits, calls };
}

const out: OutRecord[] = [{ topic: 'signals', key: 's-1', value: '{}' }];

describe('Checkpoint.commit when the group moves on', () => {
  it('tells a refused commit of a rebalance from other final errors', () => {
    for (const [type, code] of [['REBALANCE_IN_PROGRESS', 27], ['ILLEGAL_GENERATION', 22], ['UNKNOWN_MEMBER_ID', 25]] as const) {
      expect(isGroupMovedOn(refused(type, code)), type).toBe(true);
      expect(isRetriable(refused(type, code)), type).toBe(false);
    }
    expect(isGroupMovedOn(refused('TOPIC_AUTHORIZATION_FAILED', 29))).toBe(false);
    expect(isGroupMovedOn(new Error('Connection error: ECONNREFUSED'))).toBe(false);
  });

  for (const [type, code] of [['REBALANCE_IN_PROGRESS', 27], ['ILLEGAL_GENERATION', 22], ['UNKNOWN_MEMBER_ID', 25]] as const) {
    it(`a commit refused with ${type}: the outputs stay published once, the plan is not applied, the records are released`, async () => {
      const h = harness([refused(type, code)]);
      for (let o = 0n; o < 6n; o++) h.checkpoint.receive('clicks', 0, o);
      h.checkpoint.admit('clicks', 0, 6); // above the high-water mark: the partition is paused
      expect(h.calls.pause).toBe(1);
      const plan = h.checkpoint.plan();
      expect(plan.offsets).toEqual([{ topic: 'clicks', partition: 0, offset: 6n, metadata: 'jl1:6' }]);
      let published = 0;
      await h.checkpoint.commit(out, plan, 6, () => published++);
      expect(h.sent).toEqual([out]);
      expect(published).toBe(1);
      expect(h.commits).toEqual([]);
      // released: the partition resumes
      expect(h.calls.resume).toBe(1);
      // not applied: the next plan offers the same offset and mark again
      expect(h.checkpoint.plan().offsets).toEqual(plan.offsets);
    });
  }

  it('still fails on a final error that is not a rebalance', async () => {
    const h = harness([refused('TOPIC_AUTHORIZATION_FAILED', 29)]);
    h.checkpoint.receive('clicks', 0, 0n);
    await expect(h.checkpoint.commit(out, h.checkpoint.plan(), 1)).rejects.toThrow(/TOPIC_AUTHORIZATION_FAILED/);
  });

  it('a commit that lands is applied: the next plan has nothing new to commit', async () => {
    const h = harness([]);
    h.checkpoint.receive('clicks', 0, 0n);
    await h.checkpoint.commit(out, h.checkpoint.plan(), 1);
    expect(h.commits).toEqual([[{ topic: 'clicks', partition: 0, offset: 1n, metadata: 'jl1:1' }]]);
    expect(h.checkpoint.plan().offsets).toEqual([]);
  });

  it('does not commit the offsets of partitions revoked after the plan was taken (a tick cut before a rebalance)', async () => {
    const h = harness([]);
    h.checkpoint.receive('clicks', 0, 4n);
    h.checkpoint.receive('clicks', 1, 9n);
    const plan = h.checkpoint.plan();
    h.checkpoint.revoke([{ topic: 'clicks', partition: 1 }]);
    await h.checkpoint.commit(out, plan, 2);
    // the outputs go out; only the partition still owned is committed
    expect(h.sent).toEqual([out]);
    expect(h.commits).toEqual([[{ topic: 'clicks', partition: 0, offset: 5n, metadata: 'jl1:5' }]]);
  });
});
