// Local stand-ins for the ChurnAlert/RiskBand contract types while schemas/churn-alert.avsc is
// being written elsewhere. The shapes match that schema field for field, so once src/contracts.ts
// exports them this file is deleted and the imports point there. Not re-exported from
// src/index.ts on purpose: contracts.ts is the one public home of record types.

export const RISK_BANDS = ['low', 'medium', 'high'] as const;
export type RiskBand = (typeof RISK_BANDS)[number];

export interface ChurnAlert {
  /** Deterministic (see alertIdFor): a replayed alert keeps its id. */
  alertId: string;
  /** The JourneySignal whose update raised the alert. */
  signalId: string;
  sessionId: string;
  userId: string | null;
  /** 0..1 */
  churnRisk: number;
  riskBand: RiskBand;
  previousBand: RiskBand;
  /** -1 when no cluster could be assigned. */
  clusterId: number;
  clusterLabel: string;
  reason: string;
  eventCount: number;
  modelVersion: string;
  /** Wall clock, ms since the epoch. */
  emittedAt: number;
}
