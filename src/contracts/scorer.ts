// The scorer contract between the processor and the model: what a model says about a session
// view, and the deterministic id of the signal that carries it.
import { createHash } from 'node:crypto';
import type { SessionView } from '../journey/session-view.ts';
import { type JourneySignal } from './records.ts';

/** What the model says about one session view: the model's part of a JourneySignal. */
export type SessionScore = Pick<JourneySignal, 'clusterId' | 'clusterLabel' | 'distance' | 'novel' | 'churnRisk' | 'riskBand'>;

/** Scores a micro-batch of sessions; results are in the order of `views`. */
export interface SessionScorer {
  readonly modelVersion: string;
  score(views: readonly SessionView[]): Promise<SessionScore[]>;
}

/** Used while no model bundle is loaded: signals carry the journey facts, no cluster or risk. */
export const unscoredScorer: SessionScorer = {
  modelVersion: 'none',
  score: async (views) => views.map(() => ({ clusterId: -1, clusterLabel: 'unscored', distance: 0, novel: true, churnRisk: 0, riskBand: 'low' })),
};

/** `quietAsOf`: the checkpoint of a quiet re-score (same events, later time, another signal). */
export function signalIdFor(sessionId: string, lastEventId: string, modelVersion: string, final: boolean, quietAsOf?: number): string {
  const kind = final ? 'final' : quietAsOf !== undefined ? `quiet@${quietAsOf}` : 'update';
  return createHash('sha256').update(`${sessionId}\u0000${lastEventId}\u0000${modelVersion}\u0000${kind}`).digest('hex').slice(0, 32);
}
