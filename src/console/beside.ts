// Feeds the console state from a processor in the same process (`journeylens run --ui-port`,
// the demo). The processor hands over three things at three moments:
//   - every event as it is taken in (its raw type and page: the output topics do not carry them),
//   - each scored tick before it is published (the session views: the journey image),
//   - each signal and alert once published.
// The console shows what was published, as `journeylens ui` does from the topics: a tick's
// views and alerts wait here, keyed by signal id, until their signal is acknowledged.
import { type ChurnAlert, type ClickEvent, type JourneySignal } from '../contracts/records.ts';
import { type SessionView } from '../journey/session-view.ts';
import { type ConsoleState, cutText, type LastEvent, type SignalExtras } from './state.ts';

export interface ScoredItem {
  view: SessionView;
  signal: JourneySignal;
  /** Re-read after a restart: its outputs were published before and are not published again. */
  replay: boolean;
}

/** The hooks `startApp` takes (AppHooks onEvent, tickHooks, onSignal, onAlert). */
export interface ProcessorFeed {
  onEvent(event: ClickEvent): void;
  /** A tick hook that publishes nothing itself. */
  tickHook: { onScored(items: readonly ScoredItem[]): never[]; flush(): Promise<void> };
  onSignal(signal: JourneySignal): void;
  onAlert(alert: ChurnAlert): void;
}

interface Pending {
  extras?: SignalExtras;
  alerts?: ChurnAlert[];
}

// User-keyed sessions (events without a session id) under a key no session id can have.
const BY_USER = '\u0001';

/**
 * A delivery (one or more ticks: their onScored calls, then flush, then the commit whose ack
 * calls onSignal for each published signal) is the unit: what a delivery staged is matched with
 * its acknowledged signals. Deliveries go one at a time, so at the next delivery's flush the
 * previous one was acknowledged: its alerts whose signal was not published (an unchanged update
 * under --emit change) are shown then, and the views of unpublished updates are let go.
 */
export function feedFromProcessor(state: ConsoleState): ProcessorFeed {
  /** Staged by the delivery being prepared. */
  let staging = new Map<string, Pending>();
  /** Staged by the delivery being committed. */
  let delivering = new Map<string, Pending>();
  // the newest event per session key, for the sessions the index can hold (twice over: keys
  // of sessions not scored yet, or evicted meanwhile, age out first)
  const lastEvents = new Map<string, LastEvent>();
  const lastEventCap = 2 * state.limits.sessions;

  const keyOfView = (view: SessionView): string =>
    view.sessionId === `u:${view.userId ?? ''}:${view.sessionStart}` ? `${BY_USER}${view.userId ?? ''}` : view.sessionId;

  const staged = (signalId: string): Pending => {
    let p = staging.get(signalId);
    if (!p) staging.set(signalId, (p = {}));
    return p;
  };

  return {
    onEvent(event) {
      const key = event.sessionId !== '' ? event.sessionId : `${BY_USER}${event.userId ?? ''}`;
      lastEvents.delete(key);
      lastEvents.set(key, { type: cutText(event.type), page: event.page === null ? null : cutText(event.page), timestamp: event.timestamp });
      if (lastEvents.size > lastEventCap) lastEvents.delete(lastEvents.keys().next().value as string);
    },
    tickHook: {
      onScored(items) {
        for (const { view, signal, replay } of items) {
          if (!replay) staged(signal.signalId).extras = { image: view, lastEvent: lastEvents.get(keyOfView(view)) ?? null };
        }
        return [];
      },
      async flush() {
        for (const p of delivering.values()) for (const a of p.alerts ?? []) state.addAlert(a);
        delivering = staging;
        staging = new Map();
      },
    },
    onSignal(signal) {
      const p = delivering.get(signal.signalId);
      delivering.delete(signal.signalId);
      state.addSignal(signal, p?.extras);
      for (const a of p?.alerts ?? []) state.addAlert(a);
    },
    onAlert(alert) {
      (staged(alert.signalId).alerts ??= []).push(alert);
    },
  };
}
