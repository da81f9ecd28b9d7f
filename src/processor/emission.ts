// Which scored updates become signals. 'every' (every scored update is published) or 'change':
// an update is published when it is news for a reader acting on signals — the session's first
// signal, its final one, a change of cluster or risk band, or a churn risk that moved by at least
// `riskStep` since the last published signal of the session. Every update is still scored (alerts
// see them all); the ones not published are counted (ProcessorStats.unchanged), not lost.
//
// 'change' keeps what the session's last published signal said, per open session: one small
// integer (cluster, band and risk packed into 31 bits, so V8 stores it unboxed) in a Map keyed by
// the session id string the session store already holds. The entry goes with the final signal,
// or with its partition when the partition is revoked.
import { z } from 'zod';
import { componentOptions, gotValue, parseOptions } from '../options.ts';
import { type SessionScore } from '../contracts/scorer.ts';

export const EMIT_MODES = ['every', 'change'] as const;
export type EmitMode = (typeof EMIT_MODES)[number];

export interface EmissionOptions {
  mode: EmitMode;
  /** With 'change': a risk move of at least this much is published on its own (default 0.05). */
  riskStep?: number;
}

export const emissionDefaults = { riskStep: 0.05 } as const;

const stepRule = gotValue('must be a number above 0 and at most 1');
const emissionSchema = z.object({
  mode: z.enum(EMIT_MODES, { error: gotValue("must be 'every' or 'change'") }),
  riskStep: z.number({ error: stepRule }).gt(0, { error: stepRule }).max(1, { error: stepRule }),
});

const BANDS = { low: 0, medium: 1, high: 2 } as const;
/** Risk is kept to 1/8191: far finer than any step worth setting. */
const RISK_SCALE = 8191;

function pack(score: SessionScore): number {
  // cluster ids are small (a bundle has tens of clusters); 12 bits tell 4096 apart
  return (((score.clusterId + 1) & 0xfff) << 15) | (BANDS[score.riskBand] << 13) | Math.round(Math.min(1, Math.max(0, score.churnRisk)) * RISK_SCALE);
}

export class SignalEmission {
  readonly mode: EmitMode;
  readonly riskStep: number;
  /** Store partition → session id → the last published signal, packed. */
  private readonly last = new Map<number, Map<string, number>>();

  constructor(options: EmissionOptions) {
    const o = parseOptions(emissionSchema, { mode: options.mode, riskStep: options.riskStep ?? emissionDefaults.riskStep }, componentOptions('emission'));
    this.mode = o.mode;
    this.riskStep = o.riskStep;
  }

  /** Sessions whose last published signal is kept. */
  get size(): number {
    let n = 0;
    for (const m of this.last.values()) n += m.size;
    return n;
  }

  /**
   * A scored update of a session, in tick order (replayed ones too, so the state is rebuilt after
   * a restart): true when it is to be published.
   */
  observe(partition: number, sessionId: string, score: SessionScore, final: boolean): boolean {
    if (this.mode === 'every') return true;
    let sessions = this.last.get(partition);
    if (final) {
      sessions?.delete(sessionId);
      return true;
    }
    if (!sessions) {
      sessions = new Map();
      this.last.set(partition, sessions);
    }
    const now = pack(score);
    const before = sessions.get(sessionId);
    if (before !== undefined && before >>> 13 === now >>> 13 && Math.abs((before & 0x1fff) - (now & 0x1fff)) < this.riskStep * RISK_SCALE) return false;
    sessions.set(sessionId, now);
    return true;
  }

  /** A revoked partition: its sessions are rebuilt (and their signals decided) by the new owner. */
  dropPartition(partition: number): void {
    this.last.delete(partition);
  }
}
