import { describe, expect, it } from 'vitest';
import { FlowControl } from '../../../../src/processor/checkpoint/flow-control.ts';

function fakeConsumer() {
  const calls: string[] = [];
  return {
    calls,
    pause: (tps: { topic: string; partitions: number[] }[]) => calls.push(`pause ${tps.map((t) => `${t.topic}/${t.partitions.join(',')}`).join(' ')}`),
    resume: (tps: { topic: string; partitions: number[] }[]) => calls.push(`resume ${tps.map((t) => `${t.topic}/${t.partitions.join(',')}`).join(' ')}`),
  };
}

describe('FlowControl', () => {
  it('pauses the delivering partitions above the high-water mark and resumes them all below the low-water mark', () => {
    const c = fakeConsumer();
    const fc = new FlowControl(c, { highWater: 100, lowWater: 20 });
    fc.admit('t', 0, 60);
    expect(c.calls).toEqual([]);
    fc.admit('t', 1, 50);
    fc.admit('t', 0, 10);
    expect(c.calls).toEqual(['pause t/1', 'pause t/0']);
    expect(fc.isPaused).toBe(true);
    fc.release(80);
    expect(fc.isPaused).toBe(true);
    fc.release(20);
    expect(c.calls.at(-1)).toBe('resume t/1,0');
    expect(fc.isPaused).toBe(false);
    expect(fc.pending).toBe(20);
  });

  it('rejects marks that cannot work', () => {
    expect(() => new FlowControl(fakeConsumer(), { highWater: 10, lowWater: 10 })).toThrow('lowWater (10) must be at least 0 and below highWater (10)');
  });
});
