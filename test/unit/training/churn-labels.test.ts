import { describe, expect, it } from 'vitest';
import { deriveChurnLabels, type TrainingSession } from '../../../src/training/training-data.ts';

const DAY = 86_400_000;
const session = (userId: string | null, start: number, end: number): TrainingSession =>
  ({ sessionId: `${userId}@${start}`, userId, eventCount: 1, final: { sessionStart: start, windowEnd: end }, prefixes: [], summary: {}, label: Number.NaN }) as unknown as TrainingSession;

describe('train --churn-after: labels from the history itself', () => {
  it('churned when no later session of the user starts within the horizon, retained when one does, too recent near the end', () => {
    const s = [
      session('a', 0, DAY), // next a-session 10 days after its end: retained
      session('a', 11 * DAY, 11 * DAY + 1000), // nothing within 14 days, history goes on to day 40: churned
      session('b', 2 * DAY, 2 * DAY + 5000), // b never comes back: churned
      session('c', 30 * DAY, 30 * DAY + 1), // day 30 + 14 > day 40: too recent
      session('c', 31 * DAY, 40 * DAY), // the last one: too recent
      session(null, 5 * DAY, 5 * DAY), // no user: unlabelled
    ];
    const summary = deriveChurnLabels(s, 14 * DAY, 40 * DAY);
    expect(s.map((x) => x.label)).toEqual([0, 1, 1, 0, Number.NaN, Number.NaN]);
    expect(summary).toEqual({ source: 'churnAfter', churnAfterMs: 14 * DAY, churned: 2, retained: 2, tooRecent: 1, tooRecentUsers: 0, noUser: 1, historyEnd: 40 * DAY });
  });

  it('counts users whose every session is too recent', () => {
    const s = [session('new', 39 * DAY, 39 * DAY), session('old', 0, 0)];
    expect(deriveChurnLabels(s, 14 * DAY, 40 * DAY)).toMatchObject({ churned: 1, tooRecent: 1, tooRecentUsers: 1 });
  });
});
