import { describe, expect, it } from 'vitest';
import { PartitionWatermarks } from '../../../src/streams/watermark.ts';

describe('PartitionWatermarks', () => {
  it('is the greatest event time per partition minus the lateness, and never goes back', () => {
    const w = new PartitionWatermarks({ allowedLatenessMs: 10 });
    expect(w.get(0)).toBe(-Infinity);
    expect(w.observe(0, 100, 0)).toBe(90);
    expect(w.observe(0, 50, 0)).toBe(90);
    expect(w.observe(1, 500, 0)).toBe(490);
    expect(w.get(0)).toBe(90);
    w.delete(1);
    expect(w.get(1)).toBe(-Infinity);
  });

  it('stays where it is on an idle partition, and measures how long the partition has been idle', () => {
    const w = new PartitionWatermarks({ allowedLatenessMs: 10 });
    expect(w.idleFor(0, 500)).toBe(0); // no event yet: not idle
    w.observe(0, 1000, 100);
    expect(w.get(0)).toBe(990);
    expect(w.idleFor(0, 350)).toBe(250);
    expect(w.get(0)).toBe(990); // time alone never moves it
    w.observe(0, 1005, 350);
    expect(w.idleFor(0, 360)).toBe(10);
    w.touchAll(400);
    expect(w.idleFor(0, 410)).toBe(10);
  });
});

describe('PartitionWatermarks.reset', () => {
  it('forgets a revoked partition, so re-reading it from an older offset is not late', async () => {
    const { PartitionWatermarks } = await import('../../../src/streams/watermark.ts');
    const w = new PartitionWatermarks({ allowedLatenessMs: 1000 });
    w.observe(0, 100_000, 0);
    w.observe(1, 50_000, 0);
    expect(w.get(0)).toBe(99_000);
    w.reset(0);
    expect(w.get(0)).toBe(-Infinity);
    expect(w.get(1)).toBe(49_000);
    expect(w.observe(0, 10_000, 0)).toBe(9_000);
  });
});
