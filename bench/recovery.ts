// Recovery: time from a restart to the first signal with N open sessions. A topic is filled so
// that N sessions are open (3 events each, all within minutes: none closes), a processor reads it
// all and stops gracefully; then one more event is produced for some of the sessions and a new
// processor in the same group starts. It is timed to having rebuilt every open session (the
// store is in memory, so the committed offsets stay behind the oldest open session and a restart
// replays it) and to its first acknowledged signal: the replayed records' signals were published
// before the stop and are not published again (replay marks), so the first signal is one of the
// new events' — the time until the processor is live again.
// Baseline, same run: the first (cold) start of the same group on the same topic.
//
//   node --expose-gc --import tsx bench/recovery.ts [--quick]
import { clickRecord, createTopic, log, openSessionClicks, produceAll, startProcessor, uniqueName, until, withBroker } from './_kafka.ts';

const quick = process.argv.includes('--quick');
const sessions = quick ? 20_000 : 100_000;
const perSession = 3;
const events = sessions * perSession;
/** Events produced between the stop and the restart (one more for the first sessions). */
const fresh = 1000;
const timeoutMs = quick ? 180_000 : 900_000;

async function timedRun(bootstrap: string, topic: string, group: string, expected: number) {
  const run = await startProcessor(bootstrap, { input: topic, signals: uniqueName('signals'), group });
  try {
    const s = run.app.processor.stats;
    await until(() => run.signals() > 0, timeoutMs, 'the first signal');
    await until(() => s.processed + s.late + s.dead + s.duplicates >= expected, timeoutMs, `the processor to read ${expected} events (${s.processed} so far)`, 5);
    const caughtUpAt = performance.now();
    return {
      secondsToFirstSignal: +((run.firstSignalAt() - run.startedAt) / 1000).toFixed(3),
      secondsToFirstRecord: +((run.firstRecordAt() - run.startedAt) / 1000).toFixed(3),
      secondsToAllSessionsRebuilt: +((caughtUpAt - run.startedAt) / 1000).toFixed(3),
      openSessions: run.app.processor.activeSessions,
      processed: s.processed,
      late: s.late,
      replayed: s.replayed,
      suppressed: s.suppressed,
      signals: s.signals,
      commits: s.commits,
    };
  } finally {
    await run.app.stop();
  }
}

const result = await withBroker(async (broker, kafka) => {
  const topic = uniqueName('clicks');
  await createTopic(kafka, topic, 3);
  const runId = uniqueName('r');
  const t0 = Date.UTC(2026, 10, 1);
  await produceAll(kafka, topic, openSessionClicks(sessions, perSession, runId, t0));
  const group = uniqueName('jl');
  log(`recovery: ${sessions} sessions produced; first start`);
  const first = await timedRun(broker.bootstrap, topic, group, events);
  log(`recovery: first start ${first.secondsToFirstSignal} s to first signal, ${first.secondsToAllSessionsRebuilt} s to all; ${fresh} new events, restart`);
  // the 4th event of the first sessions, a minute after their 3rd (openSessionClicks' spacing)
  await produceAll(kafka, topic, Array.from({ length: fresh }, (_, i) => clickRecord(i, perSession, t0 + perSession * 60_000 + i, runId)));
  const restart = await timedRun(broker.bootstrap, topic, group, events + fresh);
  log(`recovery: restart ${restart.secondsToFirstSignal} s to first signal, ${restart.secondsToAllSessionsRebuilt} s to all`);
  return { first, restart };
});

process.stdout.write(
  `${JSON.stringify({
    bench: 'recovery',
    quick,
    openSessions: sessions,
    eventsPerSession: perSession,
    events,
    freshEventsBeforeRestart: fresh,
    restart: result.restart,
    baselines: { coldStart: result.first },
    restartToColdFirstSignal: +(result.restart.secondsToFirstSignal / result.first.secondsToFirstSignal).toFixed(2),
  })}\n`,
);
