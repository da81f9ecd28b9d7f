import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotIndex } from '../../../src/streams/slot-index.ts';

describe('SlotIndex', () => {
  // as in the store: a key may move to a new slot (a new chain head), a slot serves one key at a time
  it('agrees with a Map under any sequence of sets, deletes and growth', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ op: fc.constant('grow' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        let capacity = 16;
        const index = new SlotIndex(capacity);
        const model = new Map<string, number>();
        let nextSlot = 0;
        for (const o of ops) {
          if (o.op === 'set') {
            const slot = nextSlot++;
            while (capacity <= slot) index.grow((capacity *= 2));
            index.set(`k${o.key}`, slot);
            model.set(`k${o.key}`, slot);
          } else if (o.op === 'delete') {
            index.delete(`k${o.key}`);
            model.delete(`k${o.key}`);
          } else {
            capacity = Math.ceil(capacity * 1.5);
            index.grow(capacity);
          }
          expect(index.size).toBe(model.size);
        }
        for (let k = 0; k <= 60; k++) expect(index.get(`k${k}`)).toBe(model.get(`k${k}`) ?? -1);
      }),
      { numRuns: 300 },
    );
  });
});
