// Invariants that must hold for any seed and size, not just the ones the other tests pick.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generate, createSimulation } from '../../../src/sim/generator.ts';
import { KDD_EVENT_TYPES, expandKddDay } from '../../../src/sim/kdd.ts';

describe('generator invariants', () => {
  it('for any seed, sessions and users: time order, exact counts, contiguous steps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 120 }), (seed, a, b) => {
        const sessions = Math.max(a, b);
        const users = Math.min(a, b);
        const sim = createSimulation({ seed, sessions, users });
        let last = -Infinity;
        const steps = new Map<string, number>();
        let ordered = true;
        let contiguous = true;
        for (const { event, step, last: isLast } of sim.events()) {
          if (event.timestamp < last) ordered = false;
          last = event.timestamp;
          const expected = steps.get(event.sessionId) ?? 0;
          if (step !== expected || expected < 0) contiguous = false;
          steps.set(event.sessionId, isLast ? -1 : step + 1);
        }
        expect(ordered).toBe(true);
        expect(contiguous).toBe(true);
        expect(steps.size).toBe(sessions);
        // every session reached its last event
        expect([...steps.values()].every((v) => v === -1)).toBe(true);
        expect(sim.users).toHaveLength(users);
      }),
      { numRuns: 25 },
    );
  });

  it('is a pure function of its options', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 30 }), (seed, sessions) => {
        const a = [...generate({ seed, sessions })].map((i) => JSON.stringify(i));
        const b = [...generate({ seed, sessions })].map((i) => JSON.stringify(i));
        expect(b).toEqual(a);
      }),
      { numRuns: 15 },
    );
  });
});

describe('expandKddDay invariants', () => {
  it('emits exactly the counted events per type, strictly increasing inside the UTC day', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 7, maxLength: 7 }),
        fc.date({ min: new Date('2013-01-01T00:00:00Z'), max: new Date('2016-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 1000 }),
        (counts, date, seed) => {
          const day = date.toISOString().slice(0, 10);
          const events = expandKddDay({ enrollmentId: '7', date: day, counts }, 'c', seed);
          expect(KDD_EVENT_TYPES.map((t) => events.filter((e) => e.type === t).length)).toEqual(counts);
          const start = Date.parse(`${day}T00:00:00Z`);
          let prev = -Infinity;
          for (const e of events) {
            expect(e.timestamp).toBeGreaterThan(prev);
            expect(e.timestamp).toBeGreaterThanOrEqual(start);
            expect(e.timestamp).toBeLessThan(start + 86_400_000);
            prev = e.timestamp;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
