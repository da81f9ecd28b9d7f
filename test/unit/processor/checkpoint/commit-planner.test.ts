import { describe, expect, it } from 'vitest';
import { CommitPlanner, mergePlans } from '../../../../src/processor/checkpoint/commit-planner.ts';

describe('CommitPlanner (low-watermark commits)', () => {
  it('commits one past the last received record when no session holds anything', () => {
    const p = new CommitPlanner();
    p.receive('t', 0, 0n);
    p.receive('t', 0, 41n);
    expect(p.plan(() => undefined).offsets).toEqual([{ topic: 't', partition: 0, offset: 42n, metadata: 'jl1:42' }]);
  });

  it('never commits past the oldest offset still held by an open session', () => {
    const p = new CommitPlanner();
    for (let i = 0; i < 100; i++) p.receive('t', 1, BigInt(i));
    const plan = p.plan((_t, part) => (part === 1 ? 17n : undefined));
    // the metadata still records that everything up to offset 99 was published
    expect(plan.offsets).toEqual([{ topic: 't', partition: 1, offset: 17n, metadata: 'jl1:100' }]);
  });

  it('does not move a commit backwards and skips partitions with nothing new', () => {
    const p = new CommitPlanner();
    p.receive('t', 0, 9n);
    const first = p.plan(() => undefined);
    p.applied(first);
    expect(p.plan(() => undefined).offsets).toEqual([]);
    // a session that starts at an older offset cannot exist after a commit, but even if a caller
    // reported one, the commit must not regress
    p.receive('t', 0, 12n);
    // the offset stays where it was, but the published-up-to mark moves on
    expect(p.plan(() => 5n).offsets).toEqual([{ topic: 't', partition: 0, offset: 10n, metadata: 'jl1:13' }]);
    expect(p.plan(() => 11n).offsets).toEqual([{ topic: 't', partition: 0, offset: 11n, metadata: 'jl1:13' }]);
  });

  it('keeps partitions and topics apart and handles int64 offsets', () => {
    const p = new CommitPlanner();
    p.receive('a', 0, 9007199254740993n);
    p.receive('b', 0, 3n);
    const plan = p.plan((t) => (t === 'b' ? 2n : undefined));
    expect(plan.offsets).toEqual([
      { topic: 'a', partition: 0, offset: 9007199254740994n, metadata: 'jl1:9007199254740994' },
      { topic: 'b', partition: 0, offset: 2n, metadata: 'jl1:4' },
    ]);
  });

  it('forgets revoked partitions', () => {
    const p = new CommitPlanner();
    p.receive('t', 0, 1n);
    p.receive('t', 1, 1n);
    p.revoke([{ topic: 't', partition: 0 }]);
    expect(p.plan(() => undefined).offsets.map((o) => o.partition)).toEqual([1]);
  });
});

describe('replay marks', () => {
  it('round-trips the published-up-to offset through commit metadata and ignores foreign metadata', async () => {
    const { parseReplayMark, replayMark } = await import('../../../../src/processor/checkpoint/commit-planner.ts');
    expect(parseReplayMark(replayMark(123456789012345678n))).toBe(123456789012345678n);
    expect(parseReplayMark(null)).toBeUndefined();
    expect(parseReplayMark('some other tool')).toBeUndefined();
    expect(parseReplayMark('jl1:not-a-number')).toBeUndefined();
  });

  it('drops the offsets of a plan taken before its partition was revoked (a tick cut before a rebalance, delivered after it)', () => {
    const p = new CommitPlanner();
    for (let i = 0; i < 10; i++) p.receive('t', 0, BigInt(i));
    p.receive('t', 1, 4n);
    const stale = p.plan(() => undefined);
    expect(stale.offsets.map((o) => [o.partition, o.offset])).toEqual([[0, 10n], [1, 5n]]);
    // the rebalance: partition 0 is lost (and comes back later); partition 1 stays
    p.revoke([{ topic: 't', partition: 0 }]);
    p.applied(stale);
    // partition 0 came back and is re-read from an earlier commit (another member's): an open
    // session holds offset 3, so the commit must stay there, not at the stale plan's 10
    for (let i = 3; i < 8; i++) p.receive('t', 0, BigInt(i));
    expect(p.plan((_t, part) => (part === 0 ? 3n : undefined)).offsets).toEqual([{ topic: 't', partition: 0, offset: 3n, metadata: 'jl1:8' }]);
    // the stale plan without the revoked partition; a plan taken after the revocation is current, merged or not
    expect(p.current(stale).offsets.map((o) => [o.partition, o.offset])).toEqual([[1, 5n]]);
    const fresh = p.plan(() => undefined);
    expect(p.current(fresh)).toBe(fresh);
    expect(p.current(mergePlans([stale, fresh])).offsets.map((o) => [o.partition, o.offset])).toEqual([[0, 8n], [1, 5n]]);
  });
});
