import { describe, expect, it } from 'vitest';
import { ErrorCodes, UserError } from '../../../src/errors.ts';
import { DEFAULT_EVENT_TYPES } from '../../../src/journey/image-spec.ts';
import { ARCHETYPE_MODELS, ARCHETYPES, UNKNOWN_EVENT_TYPES } from '../../../src/sim/archetypes.ts';
import { type SimItem, createSimulation, generate } from '../../../src/sim/generator.ts';

function collect(items: Iterable<SimItem>, limit = Infinity): SimItem[] {
  const out: SimItem[] = [];
  for (const it of items) {
    out.push(it);
    if (out.length >= limit) break;
  }
  return out;
}

describe('generate', () => {
  const sim = createSimulation({ sessions: 1500, users: 400, seed: 5 });
  const items = collect(sim.events());

  it('yields events in event-time order with unique ids', () => {
    for (let i = 1; i < items.length; i++) expect(items[i]!.event.timestamp).toBeGreaterThanOrEqual(items[i - 1]!.event.timestamp);
    expect(new Set(items.map((i) => i.event.eventId)).size).toBe(items.length);
  });

  it('produces exactly the requested sessions and users, each user with at least one session', () => {
    expect(new Set(items.map((i) => i.event.sessionId)).size).toBe(1500);
    expect(sim.users).toHaveLength(400);
    const usersSeen = new Set(items.map((i) => i.event.userId));
    expect(usersSeen.size).toBe(400);
    for (const u of sim.users) expect(usersSeen.has(u.userId)).toBe(true);
    expect(items.filter((i) => i.step === 0 && !i.returning)).toHaveLength(400);
    expect(items.filter((i) => i.step === 0 && i.returning)).toHaveLength(1100);
  });

  it('keeps a session’s events together with increasing timestamps and step numbers', () => {
    const bySession = new Map<string, SimItem[]>();
    for (const it of items) bySession.set(it.event.sessionId, [...(bySession.get(it.event.sessionId) ?? []), it]);
    for (const [, evs] of bySession) {
      expect(evs.map((e) => e.step)).toEqual(evs.map((_, i) => i));
      expect(new Set(evs.map((e) => e.archetype)).size).toBe(1);
      expect(new Set(evs.map((e) => e.event.userId)).size).toBe(1);
      for (let i = 1; i < evs.length; i++) expect(evs[i]!.event.timestamp).toBeGreaterThan(evs[i - 1]!.event.timestamp + evs[i - 1]!.event.durationMs! - 1);
    }
  });

  it('uses the default event types, plus a few unknown ones', () => {
    const known = new Set<string>(DEFAULT_EVENT_TYPES);
    const unknown = items.filter((i) => !known.has(i.event.type));
    for (const u of unknown) expect(UNKNOWN_EVENT_TYPES as readonly string[]).toContain(u.event.type);
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown.length / items.length).toBeLessThan(0.05);
  });

  it('writes realistic pages and positive cart values', () => {
    const pages = items.map((i) => i.event.page ?? '');
    for (const p of pages) expect(p).toMatch(/^\/(|search|cart|checkout(\/confirmation)?|product\/\d+|category\/[a-z]+|help\/[a-z-]+|account\/[a-z]+)$/);
    for (const it of items.filter((i) => i.event.type === 'purchase' || i.event.type === 'add_to_cart')) {
      expect(it.event.value).toBeGreaterThan(0);
    }
  });

  it('keeps users mostly on their primary archetype', () => {
    const primary = new Map(sim.users.map((u) => [u.userId, u.archetype]));
    const starts = items.filter((i) => i.step === 0);
    const same = starts.filter((i) => primary.get(i.event.userId!) === i.archetype).length;
    expect(same / starts.length).toBeGreaterThan(0.75);
    expect(same / starts.length).toBeLessThan(1);
  });

  it('makes churn depend on the archetype', () => {
    const big = createSimulation({ sessions: 12_000, users: 6000, seed: 2 });
    const rate = (a: string): number => {
      const us = big.users.filter((u) => u.archetype === a);
      return us.filter((u) => u.churned).length / us.length;
    };
    expect(rate('disengaging_user')).toBeGreaterThan(rate('focused_buyer') + 0.4);
    expect(rate('bouncer')).toBeGreaterThan(rate('comparison_shopper') + 0.25);
    for (const a of ARCHETYPES) expect(Math.abs(rate(a) - ARCHETYPE_MODELS[a].churnProbability)).toBeLessThan(0.15);
  });

  it('follows a daily rhythm: more sessions start in the evening than before dawn', () => {
    const hours = new Array(24).fill(0);
    for (const it of items.filter((i) => i.step === 0)) hours[new Date(it.event.timestamp).getUTCHours()]++;
    const evening = hours[19] + hours[20];
    const night = hours[3] + hours[4];
    expect(evening).toBeGreaterThan(3 * night);
  });

  it('repeats the same events on a second pass and for the same seed, and differs for another seed', () => {
    const again = collect(sim.events());
    expect(again.map((i) => JSON.stringify(i))).toEqual(items.map((i) => JSON.stringify(i)));
    const a = collect(generate({ sessions: 50, seed: 8 })).map((i) => JSON.stringify(i.event));
    const b = collect(generate({ sessions: 50, seed: 8 })).map((i) => JSON.stringify(i.event));
    const c = collect(generate({ sessions: 50, seed: 9 })).map((i) => JSON.stringify(i.event));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('runs endlessly without a session count, users arriving as it goes', () => {
    const endless = createSimulation({ seed: 4, start: Date.UTC(2026, 2, 1) });
    const got = collect(endless.events(), 20_000);
    expect(got).toHaveLength(20_000);
    expect(endless.users.length).toBeGreaterThan(100);
    expect(got[0]!.event.timestamp).toBeGreaterThanOrEqual(Date.UTC(2026, 2, 1));
  });

  it('lets an endless run change the arrival rate of new users on the fly', () => {
    const count = (boost: number): number => {
      const s = createSimulation({ seed: 6, usersPerHour: 100 });
      s.usersPerHour = s.usersPerHour * boost;
      for (const it of s.events()) if (it.event.timestamp > Date.UTC(2026, 0, 5, 6)) break;
      return s.users.length;
    };
    expect(count(4)).toBeGreaterThan(3 * count(1));
    expect(() => {
      createSimulation({ seed: 6 }).usersPerHour = 0;
    }).toThrow('simulation option usersPerHour must be positive, got 0.');
  });

  it('follows the requested archetype mix', () => {
    const only = collect(generate({ sessions: 200, seed: 1, mix: { bouncer: 1 }, stability: 1 }));
    expect(new Set(only.map((i) => i.archetype))).toEqual(new Set(['bouncer']));
  });

  it('rejects impossible options with a message naming the option', () => {
    const err = (f: () => unknown): UserError => {
      try {
        f();
      } catch (e) {
        return e as UserError;
      }
      throw new Error('expected an error');
    };
    const e1 = err(() => createSimulation({ sessions: 10, users: 20 }));
    expect(e1).toBeInstanceOf(UserError);
    expect(e1.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(e1.message).toBe('simulation option users (20) must not exceed sessions (10): every user has at least one session.');
    expect(err(() => createSimulation({ sessions: 0 })).message).toContain('sessions must be a positive integer');
    expect(err(() => createSimulation({ sessions: 5, mix: { bouncer: 0 } })).message).toContain('mix must give at least one archetype');
  });
});
