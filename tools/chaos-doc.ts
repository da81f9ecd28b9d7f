// Writes docs/reliability.md from a run of the chaos suite: the short form as `npm test` runs it
// (the whole `npm test`, so the figures are those of the CI run) and the long form
// (`vitest run test/integration/chaos` with CHAOS_LONG=1, as `npm run test:chaos`), each scenario
// appending its figures to a results file (CHAOS_RESULTS, see chaos.ts report()), and the
// session-cap flood test; then every figure, and every sentence about one, is computed here from
// those files (test/integration/chaos/results/, not committed). What each test asserts is stated
// beside it; keep it in step with the tests.
//
//   npm run chaos:doc                      both forms and the flood test, then the doc
//   npm run chaos:doc -- --form long       one form (the other's results are kept from its last run)
//   npm run chaos:doc -- --form long --only poison.test.ts,crash-alerts.test.ts
//                                          re-run these scenario files of one form; their figures
//                                          and outcomes replace the stored ones, and the doc says so
//   npm run chaos:doc -- --doc-only        rewrite the doc from the stored results
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Form = 'short' | 'long';

const root = join(import.meta.dirname, '..');
const resultsDir = join(root, 'test', 'integration', 'chaos', 'results');
const args = process.argv.slice(2);
const formArg = args.includes('--form') ? args[args.indexOf('--form') + 1] : 'both';
const docOnly = args.includes('--doc-only');
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',').filter(Boolean) : [];
if (only.length > 0 && formArg === 'both') throw new Error('--only re-runs scenario files of one form: add --form short or --form long');
const forms: Form[] = formArg === 'short' ? ['short'] : formArg === 'long' ? ['long'] : ['short', 'long'];
const floodTest = join(root, 'test', 'unit', 'streams', 'flood.test.ts');

mkdirSync(resultsDir, { recursive: true });

function runForm(form: Form): void {
  const figures = join(resultsDir, `figures-${form}.jsonl`);
  const rerun = only.length > 0;
  const outcome = join(resultsDir, rerun ? `vitest-${form}-rerun.json` : `vitest-${form}.json`);
  // a whole run replaces everything, re-runs included; a re-run appends its figures (the last per scenario counts)
  if (!rerun) for (const f of [figures, join(resultsDir, `vitest-${form}-rerun.json`), join(resultsDir, `rerun-${form}.json`)]) rmSync(f, { force: true });
  rmSync(outcome, { force: true });
  const started = Date.now();
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${outcome}`];
  const files = rerun ? only.map((f) => `test/integration/chaos/${f}`) : ['test/integration/chaos'];
  const command = form === 'short' && !rerun ? ['npm', ['test', '--', ...reporters]] as const : (['npx', ['vitest', 'run', '--project', 'integration', ...files, ...reporters]] as const);
  const r = spawnSync(command[0], [...command[1]], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CHAOS_RESULTS: figures, ...(form === 'long' ? { CHAOS_LONG: '1' } : {}) },
  });
  writeFileSync(join(resultsDir, rerun ? `rerun-${form}.json` : `run-${form}.json`), JSON.stringify({ at: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), exitCode: r.status, ...(rerun ? { files: only } : {}) }));
}

function runFlood(): void {
  if (!existsSync(floodTest)) return;
  const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', 'test/unit/streams/flood.test.ts'], { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 * 2 ** 20 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim().startsWith('{"flood"'));
  writeFileSync(join(resultsDir, 'flood.json'), JSON.stringify({ at: new Date().toISOString(), passed: r.status === 0, ...(line ? (JSON.parse(line.trim()) as Json) : {}) }));
}

if (!docOnly) {
  for (const f of forms) runForm(f);
  runFlood();
}

// ---- read what the runs left ----
const readJson = (file: string): Json | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : undefined);
interface FormResults {
  run?: Json;
  /** A re-run of some scenario files (--only) after the run. */
  rerun?: Json;
  figures: Map<string, Json>;
  /** Every run's figures per scenario, oldest first (a re-run appends; `figures` holds the last). */
  runs: Map<string, Json[]>;
  /** scenario file → passed / failed (a re-run's outcome replaces the run's) */
  outcome: Map<string, string>;
  /** The same, from the run alone. */
  outcomeOfTheRun: Map<string, string>;
}
function load(form: Form): FormResults {
  const figures = new Map<string, Json>();
  const runs = new Map<string, Json[]>();
  const file = join(resultsDir, `figures-${form}.jsonl`);
  if (existsSync(file)) {
    for (const l of readFileSync(file, 'utf8').split('\n')) if (l.trim()) {
      const rec = JSON.parse(l) as Json;
      figures.set(rec.scenario as string, rec.figures as Json);
      runs.set(rec.scenario as string, [...(runs.get(rec.scenario as string) ?? []), rec.figures as Json]);
    }
  }
  const outcome = new Map<string, string>();
  let outcomeOfTheRun = new Map<string, string>();
  for (const file of [`vitest-${form}.json`, `vitest-${form}-rerun.json`]) {
    if (file.endsWith('-rerun.json')) outcomeOfTheRun = new Map(outcome);
    for (const t of (readJson(join(resultsDir, file))?.testResults ?? []) as Json[]) {
      if (!String(t.name).includes('test/integration/chaos/')) continue;
      const name = String(t.name).split('/').pop() as string;
      const statuses = ((t.assertionResults ?? []) as Json[]).map((a) => a.status as string);
      outcome.set(name, statuses.length > 0 && statuses.every((s) => s === 'passed') ? 'passed' : 'failed');
    }
  }
  const rerun = readJson(join(resultsDir, `rerun-${form}.json`));
  return { run: readJson(join(resultsDir, `run-${form}.json`)), ...(rerun ? { rerun } : {}), figures, runs, outcome, outcomeOfTheRun };
}
const results: Record<Form, FormResults> = { short: load('short'), long: load('long') };
const flood = readJson(join(resultsDir, 'flood.json'));

// ---- formatting ----
const n = (x: unknown, digits = 0): string => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : '—');
const s = (x: unknown): string => `${n((x as number) / 1000, 1)} s`;
const plural = (k: number, one: string, many = `${one}s`): string => `${n(k)} ${k === 1 ? one : many}`;
const verdict = (ok: boolean): string => (ok ? 'holds' : '**does not hold**');
const stateLeft = (x: Json | undefined): string => `${plural((x?.sessions as number) ?? NaN, 'session record')} and ${plural((x?.delivered as number) ?? NaN, 'delivered mark')}`;

interface Scenario {
  key: string;
  file: string;
  title: string;
  asserts: string[];
  /** Sentences about one run's figures, or undefined when the scenario has none. */
  describe: (f: Json) => string;
}

const scenarios: Scenario[] = [
  {
    key: 'crash',
    file: 'crash.test.ts',
    title: 'crash: SIGKILL + restart of `journeylens run` (the built CLI)',
    asserts: [
      'the crash-free reference has exactly one final per session, for every session;',
      'every reference final (same content, `emittedAt` aside) is among the outputs after the crashes (none missing);',
      'no session has a final the reference does not have (no extra finals);',
      'no session has a final whose content differs from the reference (no conflicting finals);',
      'every repeated `signalId` is an exact copy (no conflicting ids);',
      'replay marks are honoured: the offsets are copied to each restart WITH their commit metadata (`jl1:<offset>`), at least one restart received marks, and at least one restart logged that it rebuilt sessions below the mark without publishing again.',
    ],
    describe: (f) => {
      const kills = (f.kills ?? []) as Json[];
      const withMarks = kills.filter((k) => (k.marksCopied as number) > 0).length;
      return [
        `${n(f.events)} events in ${n(f.sessions)} sessions, ${plural(kills.length, 'SIGKILL')} (at ${kills.map((k) => n(k.produced)).join(' / ')} events produced); ${n(withMarks)} of ${n(kills.length)} restarts resumed from offsets carrying replay marks and ${n(f.restartsRebuildingBelowTheMark)} logged rebuilding below the mark.`,
        `Reference finals ${n(f.referenceFinals)}; after the crashes ${n(f.chaosFinals)}: missing ${n(f.referenceFinalsMissing)}, extra ${n(f.extraFinals)}, sessions with a different final ${n(f.sessionsWithAnExtraDifferentFinal)}, conflicting signalIds ${n(f.conflictingIds)}.`,
        `${n(f.exactRepeats)} exact repeats out of ${n(f.signalsChaos)} signals (at-least-once: outputs produced in the last delivery before a kill, whose commit did not land, are produced again); ${s(f.elapsedMs)}.`,
      ].join(' ');
    },
  },
  {
    key: 'crash-alerts',
    file: 'crash-alerts.test.ts',
    title: 'crash with alerts and the webhook (real HTTP receiver)',
    asserts: [
      'the crash-free reference raised alerts (short form > 5, long form > 50), each alertId once on its alerts topic, and its receiver accepted exactly those ids;',
      'after the crashes, every reference alertId is on the alerts topic exactly once (none raised twice, none missing) and no other alertId is there (none changed);',
      'the receiver of the crashed run accepted every reference alertId (none missing) and no other (none unknown), and no alertId twice from one process; an alertId accepted again after a restart (accepted just before the SIGKILL, its delivered mark not yet acknowledged: see "Known limits") is counted, not refused;',
      'at least one restart read the alert state topic before going on.',
      'Both runs use `--max-batch 1` (every event scored): see "Alerts across crashes" for why.',
    ],
    describe: (f) => {
      const kills = (f.kills ?? []) as Json[];
      return [
        `${n(f.events)} events of ${n(f.sessions)} simulated shoppers, ${plural(kills.length, 'SIGKILL')} (at ${kills.map((k) => n(k.produced)).join(' / ')} events produced, with ${kills.map((k) => n(k.alertsSoFar)).join(' / ')} alerts on the topic).`,
        `Reference: ${plural(f.referenceAlerts as number, 'alert')}, ${n(f.referenceDuplicateIds)} duplicate ids, ${n(f.referenceDeliveries)} deliveries.`,
        `After the crashes: ${n(f.chaosAlertsOnTopic)} alerts on the topic, raised twice ${n(f.raisedTwice)}, missing alertIds ${n(f.missingAlertIds)}, changed alertIds ${n(f.changedAlertIds)}; ${n(f.chaosDeliveries)} deliveries for ${n(f.requestsToTheChaosReceiver)} requests (one in ten answered 500 and retried), **${n(f.duplicateDeliveries)} duplicate deliveries**${f.duplicateDeliveriesWithinOneProcess !== undefined ? ` (${n(f.duplicateDeliveriesWithinOneProcess)} from one process, ${n(f.duplicateDeliveriesAcrossAKill)} re-posted by a restart${((f.repeats ?? []) as Json[]).length > 0 ? `; the first copy came ${((f.repeats ?? []) as Json[]).map((r) => ((r.firstAcceptedMsBeforeTheKill as number) < 0 ? `${n(-(r.firstAcceptedMsBeforeTheKill as number))} ms after` : `${n(r.firstAcceptedMsBeforeTheKill)} ms before`)).join(' / ')} the SIGKILL was sent (a request still in flight, or answered before the delivered mark was acknowledged)` : ''})` : ''}, ${n(f.notDelivered)} not delivered, ${n(f.deliveredNotInReference)} unknown.`,
        `${n(f.alertIdsCompared ?? f.referenceAlerts)} alertIds compared; ${n(f.restartsThatReadAlertState)} of ${n(f.restarts ?? kills.length)} restarts read alert state; ${plural(f.reRaisedButNotPostedAgain as number, 'alert')} re-raised after a restart had been delivered before it and ${(f.reRaisedButNotPostedAgain as number) === 1 ? 'was' : 'were'} not posted again.`,
        f.stateLeftAfterCrashes ? `Left on the state topics once every session had closed (not asserted; see "Known limits"): reference ${stateLeft(f.stateLeftReference as Json)}, after the crashes ${stateLeft(f.stateLeftAfterCrashes as Json)}.` : '',
        `${s(f.elapsedMs)}.`,
      ].filter(Boolean).join(' ');
    },
  },
  {
    key: 'outage',
    file: 'outage.test.ts',
    title: 'broker outage on an own broker (same port and data dir)',
    asserts: [
      'the processor never fails for good (it recovers without being restarted);',
      '`/readyz`, polled every 250 ms, is false at least once between the broker going down and 5 s after it is back, and true again afterwards;',
      'every session reaches exactly its full event count on the signals topic read back by a fresh consumer (nothing lost, nothing counted twice);',
      'records read minus records replayed after the rejoin is ≥ the events produced (the re-read records rebuild state, so `processed` counts them again: equality is not asserted).',
    ],
    describe: (f) => {
      const t = (f.readyzTransitions ?? []) as Json[];
      const off = t.find((x) => x.ready === false && (x.t as number) >= 0);
      const on = off ? t.find((x) => x.ready === true && (x.t as number) > (off.t as number)) : undefined;
      return `${n(f.events)} events in ${n(f.sessions)} sessions; broker down ${s(f.outageMs)}; producer sends failed and retried: ${n(f.producerSendFailures)}; \`/readyz\` ${off ? `false ${s(off.t)} after the broker went down` : 'never false'}${on ? `, true again ${s(on.t)} after` : ''}; first signal ${s(f.recoveryMs)} after the broker was back; ${n(f.records)} records read, ${n(f.replayedAfterRejoin)} replayed after the rejoin, ${n(f.duplicates)} duplicates; ${s(f.elapsedMs)}.`;
    },
  },
  {
    key: 'rebalance',
    file: 'rebalance.test.ts',
    title: 'rebalance: a 2nd instance joins mid-stream, then leaves',
    asserts: ['compared with a single-instance reference: no reference final missing, no extra finals, no session with a different final, no conflicting signalIds (repeats are exact copies).'],
    describe: (f) =>
      `${n(f.events)} events in ${n(f.sessions)} sessions; the second instance joined at ${s(f.secondJoinedMs)} and left at ${s(f.secondLeftMs)} after taking ${n(f.secondInstanceRecords)} records; reference finals ${n(f.referenceFinals)}: missing ${n(f.referenceFinalsMissing)}, extra ${n(f.extraFinals)}, different ${n(f.sessionsWithAnExtraDifferentFinal)}, conflicting ids ${n(f.conflictingIds)}; ${n(f.exactRepeats)} exact repeats; ${s(f.elapsedMs)}.`,
  },
  {
    key: 'poison',
    file: 'poison.test.ts',
    title: 'poison input: random bytes, mutated JSON and Confluent-framed Avro',
    asserts: [
      'the processor never fails;',
      '`records` equals the records sent, and `processed + duplicates + tombstones + dead-lettered + late` equals them too;',
      'the DLQ topic holds exactly `dead + late` records;',
      'every valid session reaches exactly its own event count (no poison merged in, nothing counted twice);',
      'tombstones counted ≥ tombstones sent; dead letters > half the random-bytes records.',
    ],
    describe: (f) => {
      const k = (f.sent ?? {}) as Json;
      const accounted = (f.processed as number) + (f.duplicates as number) + (f.tombstones as number) + (f.deadLettered as number) + (f.late as number);
      return `${n(f.records)} records (${n(k.valid)} valid, ${n(k.randomBytes)} random bytes, ${n(k.mutatedJson)} mutated JSON, ${n(k.mutatedAvro)} mutated Avro, ${n(k.tombstones)} tombstones) → processed ${n(f.processed)}, duplicates ${n(f.duplicates)}, tombstones ${n(f.tombstones)}, dead-lettered ${n(f.deadLettered)}, late ${n(f.late)}: ${n(accounted)} accounted for (${accounted === f.records ? 'all' : `**${n((f.records as number) - accounted)} not**`}); DLQ topic ${n(f.dlqTopicRecords)} records (dead + late = ${n((f.deadLettered as number) + (f.late as number))}); ${s(f.elapsedMs)}.`;
    },
  },
  {
    key: 'credentials',
    file: 'credentials.test.ts',
    title: 'credentials: SASL_SSL + SCRAM-SHA-512, openssl-made certificates',
    asserts: [
      'a wrong password → the exit code is not 0, stderr names the refused credentials and `--sasl-username`, and carries no stack trace;',
      'the right password (env `JOURNEYLENS_SASL_PASSWORD`) → signals, and exit code 0 on SIGTERM;',
      'neither password appears in stdout or stderr (log level info).',
    ],
    describe: (f) => `broker up in ${s(f.brokerUpMs)}; wrong password: exit ${n((f.wrongPassword as Json)?.exit)}, \`${String((f.wrongPassword as Json)?.message ?? '').replace(/`/g, "'")}\`; right password: ${n((f.rightPassword as Json)?.signals)} signals, exit ${n((f.rightPassword as Json)?.exit)}; secrets in output: ${n(f.secretsInOutput)}; ${s(f.elapsedMs)}.`,
  },
  {
    key: 'slow-model',
    file: 'slow-model.test.ts',
    title: 'slow model: the scorer waits per scored session view',
    asserts: ['the processor never fails and takes every event (processed + duplicates reach the events produced before the wait ends); partitions were paused (backpressure log) at least once; exactly one group join; no rebalance or consumer-crash log; heap growth < 300 MB.'],
    describe: (f) =>
      `${n(f.events)} events, ${n(f.scoreDelayPerViewMs)} ms per scored view (${n(f.scoreCalls)} scorer calls, ${n(f.signals)} signals): ${plural(f.pauses as number, 'backpressure pause')}, ${plural(f.joins as number, 'group join')}, ${plural(f.rebalances as number, 'rebalance')}, ${plural(f.crashes as number, 'crash', 'crashes')}, heap +${n(f.heapGrowthMb)} MB, ${n(f.processed)} processed; ${s(f.elapsedMs)}.`,
  },
];

// ---- the page ----
const out: string[] = [];
const p = (line = ''): void => void out.push(line);

p('# Reliability: the chaos suite');
p();
p('Generated by `npm run chaos:doc` (tools/chaos-doc.ts) from a run of `test/integration/chaos/*.test.ts`');
p('in each form (re-runs of single scenario files, if any, are named below) and of the session-cap flood test;');
p('every figure below, and every sentence about one, is computed from those results. The scenarios run journeylens against a real Kafka 3.9.1 broker and');
p('break things on purpose; each prints one line of figures on stderr (`[chaos:<scenario>] short|long form {...}`).');
p();
p('- **Short form**: part of `npm test` (CI). The same assertions as the long form, on smaller sizes.');
p('- **Long form**: `npm run test:chaos` (`CHAOS_LONG=1`, the issue\'s sizes).');
p();
for (const form of ['short', 'long'] as Form[]) {
  const r = results[form];
  if (!r.run) {
    p(`${form === 'short' ? 'Short' : 'Long'} form: not run yet.`);
    continue;
  }
  const passed = [...r.outcomeOfTheRun.values()].filter((v) => v === 'passed').length;
  const failed = [...r.outcomeOfTheRun].filter(([, v]) => v !== 'passed').map(([k]) => k);
  const missing = scenarios.map((x) => x.file).filter((f) => !r.outcome.has(f));
  const afterRerun = [...r.outcome.values()].filter((v) => v === 'passed').length;
  const rerunNote = r.rerun ? ` ${((r.rerun.files ?? []) as string[]).join(', ')} ${((r.rerun.files ?? []) as string[]).length === 1 ? 'was' : 'were'} run again on their own at ${String(r.rerun.at).replace('T', ' ').slice(0, 16)} UTC (exit code ${n(r.rerun.exitCode)}); their outcome and figures below are from that re-run, after which ${n(afterRerun)} of ${n(r.outcome.size)} scenario files stand passed.` : '';
  p(`${form === 'short' ? 'Short form (run as part of `npm test`)' : 'Long form (`CHAOS_LONG=1`)'} ${String(r.run.at).replace('T', ' ').slice(0, 16)} UTC: ${n(passed)} of ${n(r.outcomeOfTheRun.size)} scenario files passed${failed.length > 0 ? `; **failed: ${failed.join(', ')}**` : ''}${missing.length > 0 ? `; not in this run: ${missing.join(', ')}` : ''} (${n((r.run.seconds as number) / 60, 1)} min for ${form === 'short' ? 'the whole `npm test`' : 'the suite'}; exit code ${n(r.run.exitCode)}).${rerunNote}`);
  p();
}

p('## What each scenario asserts, and what the run measured');
p();
scenarios.forEach((sc, i) => {
  p(`### ${i + 1}. ${sc.title} (\`${sc.file}\`)`);
  p();
  p('Asserted, in both forms:');
  p();
  for (const a of sc.asserts) p(`- ${a}`);
  p();
  for (const form of ['short', 'long'] as Form[]) {
    const f = results[form].figures.get(sc.key);
    const status = results[form].outcome.get(sc.file);
    if (!f && !status) continue;
    p(`**${form === 'short' ? 'Short' : 'Long'} form** (${status ?? 'no outcome recorded'}): ${f ? sc.describe(f) : 'no figures reported (the test failed before its report).'}`);
    p();
    const all = results[form].runs.get(sc.key) ?? [];
    if (sc.key === 'crash-alerts' && all.length > 1) {
      p(`This form ran this scenario ${n(all.length)} times in these results (the figures above are the last run's): duplicate deliveries ${all.map((r) => n(r.duplicateDeliveries)).join(' / ')}, missing alertIds ${all.map((r) => n(r.missingAlertIds)).join(' / ')}, changed alertIds ${all.map((r) => n(r.changedAlertIds)).join(' / ')}, SIGKILLs ${all.map((r) => n(((r.kills ?? []) as Json[]).length)).join(' / ')}.`);
      p();
    }
  }
});

const ca = results.long.figures.get('crash-alerts') ?? results.short.figures.get('crash-alerts');
p('## Alerts across crashes');
p();
p('The alert policy (`src/sinks/alert-policy.ts`) keeps per session the band it last alerted for, the event time');
p('of its last alert and how many alerts it raised per band. That state is kept in a **compacted state topic**,');
p('`<alerts-topic>.state` (created by `run` when missing, `cleanup.policy=compact,delete` with `retention.ms` from');
p('`--alert-state-retention-hours`, default 168), by the processor\'s alert hook');
p('(`src/processor/alerts-hook.ts`, `src/processor/alert-state.ts`):');
p();
p('- `s:<sessionId>` holds a session\'s policy state and the position (input offset, event time, final) of the');
p('  update that last changed it. It is produced with the tick\'s outputs, so it reaches the topic together with the');
p('  alerts it accounts for (in one transaction with them and the offsets under `--exactly-once`).');
p('- `d:<alertId>` says the webhook took the alert (2xx, or parked). It is produced on the receiver\'s answer and');
p('  acknowledged before the tick\'s input offsets may be committed.');
p('- Both are tombstoned in the delivery after the session\'s final one (once that commit landed), so the topic');
p('  holds only open sessions that alerted and is read in full at start-up and after each rebalance.');
p('- A record written longer ago than `--alert-state-retention-hours` is left out when the topic is read and');
p('  tombstoned with the next tick\'s outputs (unless this process holds that session or delivery itself); the broker');
p('  deletes such segments too. State a crash orphaned therefore goes after the retention; keep it longer than your');
p('  longest session (`test/integration/alert-state.test.ts`).');
p();
p('After a restart: updates re-read below the replay mark were published before, and their state changes are in');
p('the topic, so they are not observed again; updates above the mark at or before a session\'s stored position');
p('were applied (outputs produced, commit lost) and are skipped; a re-raised alert whose `d:` record exists is');
p('published to the topic if it was not, but not posted again. The alertId is the n-th entry of the session into');
p('the band (sha256 of session, band, n), not the event that happened to be scored, so it does not depend on how');
p('updates were coalesced into ticks.');
p();
p('Why a state topic and not state derived from the replay: updates are coalesced per tick (one per session per');
p('tick), so which events of a session get scored depends on timing. A replay re-scores the session at other');
p('events than the run before the crash did, and a policy rebuilt from it can disagree with what was already');
p('published (an alert raised again, or under another id — the bug this replaces). The state topic records what was');
p('decided and published, so no replay has to reproduce it.');
p();
p('What the test compares, and why `--max-batch 1`: "each alert of the crash-free run" is only well defined when');
p('both runs score the same updates. With coalescing, two runs without any crash can already differ (a session');
p('seen at medium then high in one run may be seen straight at high in the other, within the cool-down); the');
p('crash test therefore scores every event in both runs, which isolates what the crashes do.');
p();
p('What is not guaranteed: a SIGKILL after the receiver accepted a request but before its `d:` record was');
p('acknowledged (one HTTP answer plus one produce round trip) makes the restart post that alert again, with the');
p('same `webhook-id`, which receivers dedupe on (docs/webhook.md). In at-least-once mode a delivery whose outputs');
p('span several produce requests (over 1 MiB) can be cut between an alert and its state record.');
if (ca) {
  p(`In the ${results.long.figures.has('crash-alerts') ? 'long' : 'short'}-form run above, ${plural(ca.duplicateDeliveries as number, 'duplicate delivery', 'duplicate deliveries')} happened across ${plural(((ca.kills ?? []) as Json[]).length, 'SIGKILL')}; raised once under the same alertId (none missing, changed or raised twice): ${verdict(ca.missingAlertIds === 0 && ca.changedAlertIds === 0 && ca.raisedTwice === 0)}; delivered once: ${verdict(ca.duplicateDeliveries === 0)}.`);
}
p();

p('## The session cap under a flood');
p();
if (flood?.flood) {
  const f = flood.flood as Json;
  p(`\`test/unit/streams/flood.test.ts\` (in \`npm test\`; built with \`--max-sessions\`, issue 22) floods the sessionizer with ${n(f.sessions)} distinct sessions (2,000,000 one-event sessions and 1,000 regular ones that stay active) under a cap of ${n(f.cap)}: ${n(f.evictions)} evictions (= sessions − cap: ${verdict(f.evictions === f.sessions - f.cap)}), each an evicted final; peak RSS ${n(f.peakRssMiB)} MiB, growth ${n(f.rssGrowthMiB)} MiB against the test's bound of ${n(f.boundMiB)} MiB (${verdict((f.rssGrowthMiB as number) < (f.boundMiB as number))}; the kept sessions' state is ${n(f.stateMiB)} MiB at 512 B each)${f.cpuSeconds !== undefined ? `; ${n(f.cpuSeconds)} s of CPU in ${n(f.wallSeconds)} s` : ''}; the test ${flood.passed ? 'passed' : '**failed**'}, so every regular session kept every event. Run ${String(flood.at).replace('T', ' ').slice(0, 16)} UTC.`);
} else {
  p('The flood test (`test/unit/streams/flood.test.ts`) was not part of this run.');
}
p();

p('## Known limits');
p();
const outageRun = results.long.figures.get('outage') ?? results.short.figures.get('outage');
const outageForm = results.long.figures.has('outage') ? 'long' : 'short';
p(`- **Recovery after the broker returns is not immediate.**${outageRun ? ` In the ${outageForm}-form outage run the first signal came ${s(outageRun.recoveryMs)} after the broker was back.` : ''} The`);
p('  restarted consumer rejoins a group whose previous member (itself, before its connection crashed) is evicted');
p('  only after the 30 s session timeout. Likewise a SIGKILLed member holds its partitions until then: the crash');
p('  scenarios restart under a fresh group id holding exactly the offsets and commit metadata the dead one');
p('  committed (what the same group would resume from).');
p('- **At-least-once outputs.** Without `--exactly-once`, outputs of the last delivery before a kill whose commit did');
p('  not land are produced again, as exact copies with the same ids (see the crash figures). A commit that the');
p('  group coordinator refuses because the group is rebalancing is dropped, not retried: the partitions are read');
p('  again from the last commit that landed (more records re-read, nothing lost).');
p('- **A webhook delivery can be repeated.** A SIGKILL while a request is on its way, or after the receiver answered');
p('  2xx but before that alert\'s `d:<alertId>` mark was acknowledged, makes the restart post the alert again, with the same `webhook-id` (the');
const caRuns = [...results.long.runs.get('crash-alerts') ?? [], ...results.short.runs.get('crash-alerts') ?? []];
p('  alertId). The CRM must dedupe on it (docs/webhook.md). The crash-with-alerts test refuses an alert posted twice');
p(`  by one process, and counts repeats across a restart without refusing them${caRuns.length > 0 ? `: ${caRuns.map((r) => n(r.duplicateDeliveries)).join(' / ')} in its ${plural(caRuns.length, 'run')} in these results (long form first), for ${caRuns.map((r) => n(((r.kills ?? []) as Json[]).length)).join(' / ')} SIGKILLs` : ''}.`);
const left = ca?.stateLeftAfterCrashes as Json | undefined;
const leftRef = ca?.stateLeftReference as Json | undefined;
p('- **Alert state can be orphaned.** A session\'s `s:` and `d:` records are tombstoned by the delivery after the one');
p('  that committed its final signal. A SIGKILL in between, or a process that takes no further input after its last');
p('  final, leaves them on the compacted topic; every start-up and rebalance reads and restores them, so a session id');
p(`  that comes back after such a restart starts from that state.${left ? ` After the crash-with-alerts run, with every session closed, ${stateLeft(left)} were left after the crashes and ${stateLeft(leftRef)} after the reference run.` : ''} They expire after`);
p('  `--alert-state-retention-hours` (default a week): the next start-up or rebalance after that drops and tombstones them,');
p('  and the broker deletes old segments of the topic (`cleanup.policy=compact,delete`).');
p('- **Parking under `--exactly-once` is outside the transaction.** An alert the webhook gives up on is written to the');
p('  parked topic, and its delivered mark to the state topic, beside the processor\'s transactions (idempotent, acks=all),');
p('  before the tick\'s transaction commits. `test/integration/park-exactly-once.test.ts` checks that with a CRM refusing');
p('  every request each alert a read_committed reader sees is parked once; a SIGKILL between a park and its mark parks');
p('  that alert again after the restart, the same window as a webhook delivery\'s (not tested under kills).');
p('- **Alert equality needs every event scored.** The crash-with-alerts test compares against a crash-free run with');
p('  `--max-batch 1` in both runs; with coalesced updates two runs (crash or not) may raise different alerts.');
p();

writeFileSync(join(root, 'docs', 'reliability.md'), `${out.join('\n').trimEnd()}\n`);
process.stdout.write(`wrote docs/reliability.md from ${resultsDir}\n`);
