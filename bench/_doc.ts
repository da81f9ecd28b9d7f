// Writes docs/benchmarks.md from one run's bench/results/latest.json: every figure, every
// sentence about a figure and every "met / missed by how much" is computed here from the JSON,
// so the page cannot say more than the run measured.
//
//   npm run bench:doc [-- results.json] [--fill-from other-run.json [--replace NAME[,NAME]]] [--out FILE]
// --out: where the page goes (default docs/benchmarks.md), so a run can be rendered without
// touching the committed page.
// --fill-from: benchmarks the run did not reach (cut off) are taken from another run's file,
// each marked on the page with that run's form, time and load.
// --replace: these benchmarks are taken from the --fill-from run even though this run has them
// (measured again after a fix); the page says so and keeps this run's headline figure beside.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const fillAt = argv.indexOf('--fill-from');
const fillFile = fillAt >= 0 ? argv[fillAt + 1] : undefined;
const replaceAt = argv.indexOf('--replace');
const replace = replaceAt >= 0 ? (argv[replaceAt + 1] ?? '').split(',').filter((x) => x !== '') : [];
const outAt = argv.indexOf('--out');
const outFile = outAt >= 0 ? argv[outAt + 1] : join(root, 'docs', 'benchmarks.md');
if (outFile === undefined || outFile.startsWith('--')) throw new Error('--out needs a file: where to write the page');
const optionValue = (i: number): boolean => [fillAt, replaceAt, outAt].some((at) => at >= 0 && i === at + 1);
const file = argv.find((a, i) => !a.startsWith('--') && !optionValue(i)) ?? join(root, 'bench', 'results', 'latest.json');
type Run = { at: string; quick: boolean; node?: string; seconds?: number; command?: string; skipped?: string[]; machine?: Json; results: Record<string, Json>; notReached?: string[] };
const parsed = JSON.parse(readFileSync(file, 'utf8')) as Run & { timings?: Record<string, Json> };
/**
 * bench/results/partial.json (what a run that was cut off had finished: results and per-benchmark
 * timings) reads as a run whose remaining benchmarks were not reached; the page says which.
 */
function fromPartial(x: Run & { timings: Record<string, Json> }): Run {
  const timings = Object.values(x.timings);
  const samples = timings.reduce((a, t) => a + t.load.samples, 0);
  const mean1 = samples > 0 ? timings.reduce((a, t) => a + (t.load.mean1 ?? 0) * t.load.samples, 0) / samples : null;
  const max1 = samples > 0 ? Math.max(...timings.filter((t) => t.load.samples > 0).map((t) => t.load.max1 as number)) : null;
  const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.replace(/\.ts$/, ''));
  return {
    ...x,
    at: statSync(file).mtime.toISOString(),
    node: process.version,
    seconds: timings.reduce((a, t) => a + t.seconds, 0),
    machine: { cpus: cpus().length, load: { samples, mean1, max1 }, perBenchmark: x.timings },
    notReached: all.filter((b) => !(b in x.results) && !(x.skipped ?? []).includes(b)),
  };
}
const run: Run = parsed.at === undefined && parsed.timings ? fromPartial(parsed as Run & { timings: Record<string, Json> }) : parsed;
const n = (x: unknown, digits = 0): string => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : '—');
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const ok = (x: Json | undefined): boolean => x !== undefined && x.error === undefined;
const r = run.results;
const filled: string[] = [];
/** Benchmarks this run had, replaced by the --fill-from run's: this run's own figures, kept to quote. */
const replaced = new Map<string, Json>();
const fillRun = fillFile ? (JSON.parse(readFileSync(fillFile, 'utf8')) as Run) : undefined;
if (replace.length > 0 && !fillRun) throw new Error('--replace needs --fill-from: the run whose figures replace these benchmarks');
if (fillRun) {
  for (const name of replace) if (!ok(fillRun.results[name])) throw new Error(`--replace ${name}: ${fillFile} has no figures for it`);
  for (const [k, v] of Object.entries(fillRun.results)) {
    if ((!ok(r[k]) || replace.includes(k)) && ok(v) && !(run.skipped ?? []).includes(k)) {
      if (ok(r[k])) replaced.set(k, r[k]!);
      r[k] = v;
      filled.push(k);
    }
  }
}
const fillLabel = fillRun ? `the ${fillRun.quick ? 'quick' : 'full'} run of ${fillRun.at.replace('T', ' ').slice(0, 16)} UTC` : '';
const fillDetails = fillRun
  ? [fillRun.command ? `\`${fillRun.command}\`` : '', fillRun.machine?.load?.samples > 0 ? `load average ${n(fillRun.machine?.load.mean1, 2)} on average on ${fillRun.machine?.cpus} cores` : ''].filter((x) => x !== '').join(', ')
  : '';
/** What a replaced benchmark's own run measured, in a few words, for the header. */
const REPLACED_HEADLINE: Record<string, (j: Json) => string> = {
  'pipeline-throughput': (j) => `processor ${n(j.processor?.eventsPerSecond)} events/s, ${n(j.ratios?.processorToKafkajs, 3)} of kafkajs consume-only`,
};
/** Marks a benchmark's figures that come from the --fill-from run. */
const from = (name: string): string => (filled.includes(name) ? ` (from ${fillLabel})` : '');


/** "met (x vs target y)" or "missed: … short / over", for an at-least or at-most target. */
function verdict(value: number | null | undefined, target: number, kind: 'atLeast' | 'atMost', unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'not measured';
  const met = kind === 'atLeast' ? value >= target : value <= target;
  if (met) return `**met** (${n(value, 3)}${unit}; target ${kind === 'atLeast' ? '≥' : '≤'} ${n(target, 3)}${unit})`;
  if (kind === 'atLeast') return `**missed** by ${n(target - value, 3)}${unit} (${n(value, 3)}${unit} is ${pct(value / target)} of ${n(target, 3)}${unit})`;
  return `**missed** by ${n(value - target, 3)}${unit} (${n(value, 3)}${unit} is ${n(value / target, 1)}× the ${n(target, 3)}${unit} limit)`;
}

// the search stops at its phase limit: the max lies between the highest pass and the lowest fail
// above it. A phase the load generator failed (it could not send at the rate: limitedBy
// 'generator') bounds nothing about the subject: its maximum is then only known from below.
const bracket = (x: Json): { lo: number; hi: number | null; generatorAt: number | null } => {
  const lo = x.eventsPerSecond as number;
  const above = (x.phases as Json[]).filter((ph) => !ph.pass && ph.rate > lo).sort((a, b) => a.rate - b.rate)[0];
  if (!above) return { lo, hi: null, generatorAt: null };
  return above.limitedBy === 'generator' ? { lo, hi: null, generatorAt: above.rate as number } : { lo, hi: above.rate as number, generatorAt: null };
};
const failedAbove = (x: Json): string => {
  const b = bracket(x);
  return b.hi !== null ? ` (${n(b.hi)} failed)` : b.generatorAt !== null ? ` (at ${n(b.generatorAt)} the load generator could not keep the rate)` : '';
};
/** Why a maximum is only a lower bound, or '' when a phase of the subject's own failed above it. */
const unresolvedBecause = (x: Json): string => {
  const b = bracket(x);
  if (b.hi !== null) return '';
  return b.generatorAt !== null ? `at ${n(b.generatorAt)} events/s the load generator, not the subject, could not keep the rate` : 'no phase above it failed';
};
/** The passthrough the max-live ratio is taken against (the one producing with the processor's producer) and the other one, if the run had both. */
const passthroughs = (live: Json): { ref: Json; refName: string; other?: Json; otherName?: string } =>
  live.ratioTo === 'platformaticProducerPassthrough'
    ? { ref: live.platformaticProducerPassthrough, refName: "passthrough with @platformatic/kafka's producer", other: live.kafkajsPassthrough, otherName: "passthrough with kafkajs's producer" }
    : { ref: live.kafkajsPassthrough, refName: 'kafkajs passthrough' };

const out: string[] = [];
const p = (s = ''): void => void out.push(s);

p('# Benchmarks');
p();
p('Generated by `npm run bench:doc` from `bench/results/latest.json` (written by `npm run bench`); every figure and');
p('every sentence about one below is computed from that file. Each figure is measured beside a baseline **in the same');
p('run**: the dev box has 2 cores shared by several people, so compare ratios, not absolutes. The broker benchmarks start');
p('and stop their own local KRaft broker (`src/local-kafka/local-kafka.ts`). One benchmark alone:');
p('`node --expose-gc --import tsx bench/<name>.ts [--quick]`.');
p();
p(`Run: **${run.quick ? 'quick form (--quick)' : 'full form'}**${run.command ? ` (\`${run.command}\`)` : ''}, ${run.at.replace('T', ' ').slice(0, 16)} UTC${run.node ? `, Node ${run.node}` : ''}${run.seconds ? `, ${n(run.seconds / 60, 1)} min ${run.notReached && run.notReached.length > 0 ? 'for the benchmarks it finished' : 'in all'}` : ''}. Benchmarks that failed: ${Object.entries(r).filter(([, v]) => !ok(v)).map(([k, v]) => `${k} (${v.error})`).join(', ') || 'none'}.${run.skipped && run.skipped.length > 0 ? ` Left out of this run (\`--skip\`): ${run.skipped.map((x) => `\`${x}\``).join(', ')}.` : ''}${run.notReached && run.notReached.length > 0 ? ` **The run was cut off** (this page is from its \`bench/results/partial.json\`, written after each benchmark); not reached: ${run.notReached.map((x) => `\`${x}\``).join(', ')}.` : ''}${fillRun && filled.some((x) => !replaced.has(x)) ? ` So that every section has figures, ${filled.filter((x) => !replaced.has(x)).map((x) => `\`${x}\``).join(', ')} come from ${fillLabel}${fillDetails ? ` (${fillDetails})` : ''}, marked where they are used; their ratios are to baselines of that run.` : ''}${replaced.size > 0 ? ` ${[...replaced.keys()].map((x) => `\`${x}\``).join(', ')} ${replaced.size > 1 ? 'were' : 'was'} measured again in ${fillLabel}${fillDetails ? ` (${fillDetails})` : ''} after a fix and ${replaced.size > 1 ? 'are' : 'is'} taken from there, marked where used${[...replaced].map(([k, v]) => (REPLACED_HEADLINE[k] ? `; this run's own \`${k}\`: ${REPLACED_HEADLINE[k](v)}` : '')).join('')}.` : ''}`);
p();
const machine = run.machine;
if (machine && machine.load?.samples > 0) {
  const busiest = Object.entries(machine.perBenchmark as Record<string, Json>).filter(([, t]) => t.load.samples > 0).sort((a, b) => b[1].load.mean1 - a[1].load.mean1)[0];
  p(`Machine: ${machine.cpus} cores, shared. The 1-minute load average, sampled every 5 s through the run, was ${n(machine.load.mean1, 2)} on average (${n(machine.load.mean1 / machine.cpus, 1)} per core) and at most ${n(machine.load.max1, 2)}${busiest ? `; highest during \`${busiest[0]}\` (mean ${n(busiest[1].load.mean1, 2)})` : ''}. ${machine.load.mean1 > machine.cpus ? 'The box was oversubscribed for this run, so absolute figures are low; the ratios to the in-run baselines are what to compare.' : 'The box was not oversubscribed on average for this run.'}`);
  p();
  p('| Benchmark | minutes | load average (mean, max) |');
  p('|---|---|---|');
  for (const [name, t] of Object.entries(machine.perBenchmark as Record<string, Json>)) p(`| \`${name}\` | ${n(t.seconds / 60, 1)} | ${t.load.samples > 0 ? `${n(t.load.mean1, 2)}, ${n(t.load.max1, 2)}` : '—'} |`);
  p();
}

// ---- summary against issue 18's targets
const lat = r.latency as Json;
const tp = r['pipeline-throughput'] as Json;
const mem = r['session-memory'] as Json;
p('## Summary against the targets (issue 18)');
p();
p('| Target | Figure | Baseline (same run) | Verdict |');
p('|---|---|---|---|');
if (ok(lat)) {
  const t = lat.target;
  const live = lat.maxLiveRate;
  const at = (load: number): Json | undefined => lat.phases.find((x: Json) => x.load === load);
  const pt = passthroughs(live);
  p(`| Max live rate ≥ ${t.maxLiveToPassthroughAtLeast} of the passthrough's | ${n(live.processor.eventsPerSecond)} events/s${failedAbove(live.processor)}${from('latency')} | ${pt.refName} ${n(pt.ref.eventsPerSecond)} events/s${failedAbove(pt.ref)}${pt.other ? `; ${pt.otherName} ${n(pt.other.eventsPerSecond)} events/s${failedAbove(pt.other)}` : ''} | ${bracket(pt.ref).hi === null && live.ratioToPassthrough >= t.maxLiveToPassthroughAtLeast ? `**not resolved**: ${n(live.ratioToPassthrough, 3)} is an upper bound (${unresolvedBecause(pt.ref)}, so the passthrough's maximum is at least ${n(pt.ref.eventsPerSecond)} events/s)` : `${verdict(live.ratioToPassthrough, t.maxLiveToPassthroughAtLeast, 'atLeast')}${bracket(pt.ref).hi === null ? ` — and ${n(live.ratioToPassthrough, 3)} is only an upper bound (${unresolvedBecause(pt.ref)})` : ''}`} |`);
  p(`| Max live rate ≥ ${n(t.maxLiveEventsPerSecondAtLeast)} events/s | ${n(live.processor.eventsPerSecond)} events/s${failedAbove(live.processor)}${from('latency')} | — | ${verdict(live.processor.eventsPerSecond, t.maxLiveEventsPerSecondAtLeast, 'atLeast', ' events/s')} |`);
  const half = at(0.5);
  const quarter = at(0.25);
  const base = lat.baselines[`${live.ratioTo ?? 'kafkajsPassthrough'}At50`] as Json;
  if (half) {
    p(`| p99 at 50% (${n(half.rate)}/s) ≤ ${t.p99MsAt50AtMost} ms | ${n(half.latency.p99Ms)} ms${half.caughtUp ? '' : ' (never caught up)'}${from('latency')} | passthrough p99 ${n(base.latency.p99Ms)} ms | ${half.caughtUp ? verdict(half.latency.p99Ms, t.p99MsAt50AtMost, 'atMost', ' ms') : '**missed** (lag unbounded)'} |`);
    p(`| p50 at 50% ≤ ${t.p50MsAt50AtMost} ms | ${n(half.latency.p50Ms)} ms${from('latency')} | passthrough p50 ${n(base.latency.p50Ms)} ms | ${half.caughtUp ? verdict(half.latency.p50Ms, t.p50MsAt50AtMost, 'atMost', ' ms') : '**missed** (lag unbounded)'} |`);
  }
  if (quarter) p(`| p99 at 25% (${n(quarter.rate)}/s) ≤ ${t.p99MsAt25AtMost} ms | ${n(quarter.latency.p99Ms)} ms${from('latency')} | — | ${quarter.caughtUp ? verdict(quarter.latency.p99Ms, t.p99MsAt25AtMost, 'atMost', ' ms') : '**missed** (lag unbounded)'} |`);
}
if (ok(tp)) {
  p(`| Backlog throughput ≥ ${tp.target.processorToKafkajsAtLeast} of kafkajs consume-only | ${n(tp.processor.eventsPerSecond)} events/s${from('pipeline-throughput')} | kafkajs consume-only ${n(tp.baselines.kafkajsConsumeOnly.eventsPerSecond)} events/s | ${verdict(tp.ratios.processorToKafkajs, tp.target.processorToKafkajsAtLeast, 'atLeast')} |`);
}
if (ok(mem)) {
  for (const row of mem.storeBySize as Json[]) p(`| ≤ ${mem.targetBytesPerSession} B per open session (${n(row.sessions)} sessions) | ${n(row.bytesPerSession)} B${from('session-memory')} | Map of records ${n(mem.baselines.mapOfRecords.bytesPerSession)} B | ${verdict(row.bytesPerSession, mem.targetBytesPerSession, 'atMost', ' B')} |`);
}
p();

// ---- live rate and latency
if (ok(lat)) {
  const live = lat.maxLiveRate;
  p(`## 1. Max live rate and latency — \`bench/latency.ts\`${from('latency')}`);
  p();
  p(`Open-loop load on a fresh topic per phase (3 partitions, ${n(lat.sessions)} sessions in turn, so nearly every event is its own scoring), sent from a worker thread${lat.loadGenerator ? ` with ${lat.loadGenerator.client === 'platformatic' ? "@platformatic/kafka's" : "kafkajs's"} producer (acks=${lat.loadGenerator.acks})` : ''}; each event is stamped with the wall-clock time it was handed to the producer. A phase passes when the load generator kept ≥ 97% of the rate (and every send it made was acknowledged), the lag (sent − handled${lat.handled === 'delivered' ? ': for the processor, events whose tick was delivered (signal acknowledged), not merely taken in' : ''}) over its second half stayed under 2 s of events, and everything was handled within a grace period after it. ${live.searchPlans ? `A phase that clearly fails is stopped there (lag over 2 s of events in its second half or over 4 s after the warm-up, or the load generator 2 s behind its schedule), shown as "stopped". A phase the load generator failed (behind its schedule, under 97% of the rate, or sends not acknowledged) is marked "fail (generator)": it says nothing about the subject, whose maximum is then known only from below. The search grows the rate (the passthrough's from ${n(live.searchPlans.kafkajsPassthrough.start)}/s by ${live.searchPlans.kafkajsPassthrough.growth}×${live.searchPlans.platformaticProducerPassthrough ? `, with each producer${live.searchPlans.passthroughsInTurn ? ', the two searches taking their phases in turn so that both see the same load' : ''}` : ''}, the processor's from ${n(live.searchPlans.processor.start)}/s by ${live.searchPlans.processor.growth}×) until a phase fails, then bisects; the \`--emit change\` search starts at \`--emit every\`'s maximum.` : 'The search grows the rate by half until a phase fails, then bisects.'} Latency = the processor's \`onSignal\` (the signal acknowledged by the broker) − the event's stamp; the first ${lat.warmupSeconds} s of a phase are not counted.`);
  p();
  const searchRows = (name: string, phases: Json[]): void => {
    for (const ph of phases) p(`| ${name} | ${n(ph.rate)} | ${ph.phaseSeconds} | ${n(ph.achievedRate)} | ${n(ph.maxLagSecondHalf)} | ${ph.failReason !== undefined ? ph.failReason : ph.stoppedAfterSeconds !== undefined ? `stopped at ${ph.stoppedAfterSeconds} s: ${ph.stoppedBecause}` : ph.caughtUp ? `yes (${ph.catchUpSeconds} s)` : 'no'} | ${ph.pass ? 'pass' : ph.limitedBy === 'generator' ? 'fail (generator)' : 'fail'} | ${n(ph.latency.p50Ms)} | ${n(ph.latency.p99Ms)} |`);
  };
  p('| Subject | rate /s | s | generator kept /s | max lag | caught up (or why it failed) | phase | p50 ms | p99 ms |');
  p('|---|---|---|---|---|---|---|---|---|');
  if (live.platformaticProducerPassthrough) searchRows("passthrough, @platformatic/kafka's producer", live.platformaticProducerPassthrough.phases);
  searchRows(live.platformaticProducerPassthrough ? "passthrough, kafkajs's producer" : 'kafkajs passthrough', live.kafkajsPassthrough.phases);
  searchRows('processor --emit every', live.processor.phases);
  searchRows('processor --emit change', live.processorEmitChange.phases);
  p();
  const bp = bracket(live.processor);
  const pts = passthroughs(live);
  const bt = bracket(pts.ref);
  const span = (x: Json): string => {
    const b = bracket(x);
    return b.hi === null ? `≥ ${n(b.lo)} (${unresolvedBecause(x)})` : `${n(b.lo)} passed, ${n(b.hi)} failed`;
  };
  p(`The search resolves each maximum only to its last bracket: processor \`--emit every\` ${span(live.processor)}; \`--emit change\` ${span(live.processorEmitChange)}; ${pts.refName} ${span(pts.ref)}${pts.other ? `; ${pts.otherName} ${span(pts.other)}` : ''}.${bp.hi !== null && bt.hi !== null && bt.lo > 0 ? ` So the processor's ratio to the ${pts.refName} lies between ${n(bp.lo / bt.hi, 2)} and ${n(bp.hi / bt.lo, 2)}; the figure in the summary (${n(live.ratioToPassthrough, 3)}) is the ratio of the two highest passing rates.` : ''}`);
  p();
  p(`Max live rate: processor ${n(live.processor.eventsPerSecond)} events/s with \`--emit every\` (${n(live.ratioToPassthrough, 3)} of the ${n(pts.ref.eventsPerSecond)} events/s of the ${pts.refName}), ${n(live.processorEmitChange.eventsPerSecond)} events/s with \`--emit change\` (${n(live.ratioToPassthroughEmitChange, 3)} of it).${pts.other ? ` The ratios are taken against the passthrough producing with @platformatic/kafka because the processor produces with it (${lat.processorProducer === 'platformatic' ? 'in at-least-once mode, the default' : lat.processorProducer}): the same transport. The ${pts.otherName} reached ${n(pts.other.eventsPerSecond)} events/s in the same run${pts.other.eventsPerSecond > 0 ? `, so @platformatic/kafka's producer carried ${n(pts.ref.eventsPerSecond / pts.other.eventsPerSecond, 2)}× as much` : ' (no phase passed)'}${bracket(pts.ref).hi === null || bracket(pts.other).hi === null ? ` (${[bracket(pts.ref).hi === null ? `@platformatic/kafka's maximum is a lower bound: ${unresolvedBecause(pts.ref)}` : '', bracket(pts.other).hi === null ? `kafkajs's maximum is a lower bound: ${unresolvedBecause(pts.other)}` : ''].filter((x) => x !== '').join('; ')})` : ''}${pts.other.eventsPerSecond > 0 ? `; against that one the processor's ratio would be ${n(live.processor.eventsPerSecond / pts.other.eventsPerSecond, 3)}` : ''}.` : ''}`);
  p();
  p(`Latency at fractions of the processor's max live rate (\`--emit every\`), and the passthrough${lat.baselines.platformaticProducerPassthroughAt50 ? ' with each producer' : ''} at 50% (event → output acknowledged):`);
  p();
  p('| Load | rate /s | sent | caught up | signals | p50 ms | p90 ms | p99 ms | max ms | main thread busy | ticks | deliveries |');
  p('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const passRows = lat.baselines.platformaticProducerPassthroughAt50
    ? [
        { ...lat.baselines.platformaticProducerPassthroughAt50, label: "baseline: passthrough, @platformatic/kafka's producer, at 50%" },
        { ...lat.baselines.kafkajsPassthroughAt50, label: "baseline: passthrough, kafkajs's producer, at 50%" },
      ]
    : [{ ...lat.baselines.kafkajsPassthroughAt50, label: 'baseline: kafkajs passthrough at 50%' }];
  for (const ph of [...lat.phases, { ...lat.emitChangeAt50, label: '50% --emit change' }, ...passRows] as Json[]) {
    p(`| ${ph.label ?? pct(ph.load)} | ${n(ph.rate)} | ${n(ph.sent)} | ${ph.caughtUp ? 'yes' : 'no'} | ${n(ph.signals)} | ${n(ph.latency.p50Ms)} | ${n(ph.latency.p90Ms)} | ${n(ph.latency.p99Ms)} | ${n(ph.latency.maxMs)} | ${ph.mainThreadUtilisation !== undefined ? pct(ph.mainThreadUtilisation) : '—'} | ${n(ph.ticks)} | ${n(ph.deliveries)} |`);
  }
  p();
  const half = lat.phases.find((x: Json) => x.load === 0.5) as Json | undefined;
  const ch = lat.emitChangeAt50 as Json;
  if (half && ch) {
    const published = ch.signals / Math.max(1, ch.signals + ch.unchanged);
    p(`**Emission.** At 50% load \`--emit change\` published ${pct(published)} of the updates it scored (${n(ch.signals)} signals, ${n(ch.unchanged)} not published: same cluster and band, risk moved less than the step), p99 ${n(ch.latency.p99Ms)} ms against ${n(half.latency.p99Ms)} ms with \`--emit every\`; its max live rate was ${n(live.processorEmitChange.eventsPerSecond / Math.max(1, live.processor.eventsPerSecond), 2)}× that of \`--emit every\`. ${live.processorEmitChange.eventsPerSecond > live.processor.eventsPerSecond * 1.1 ? 'Publishing fewer signals frees the producer and the broker, which share the box with scoring, so the live maximum rises;' : 'Publishing fewer signals barely moves the live maximum here, so scoring, not publishing, limits it;'} \`every\` stays the default because it changes nothing for existing readers of the signals topic (one signal per scored update, as before) and alerts see every scored update in both modes; \`--emit change\` is the option for readers that only act on news.`);
    p();
    p('**Per event at the 50% phase** (main thread: event-loop utilisation × wall time / events; scoring: the scoring worker\'s clocks, per scored update):');
    p();
    const s = half.scoringMicrosPerScored as Json;
    const total = ['rasterize', 'encode', 'assign', 'neighbours', 'readout'].reduce((a, k) => a + (s[k] ?? 0), 0);
    p('| main thread µs/event | rasterize | encode | assign | neighbours | readout | scoring µs/update | scoring workers |');
    p('|---|---|---|---|---|---|---|---|');
    p(`| ${n(half.mainThreadMicrosPerEvent, 1)} | ${n(s.rasterize, 1)} | ${n(s.encode, 1)} | ${n(s.assign, 1)} | ${n(s.neighbours, 1)} | ${n(s.readout, 1)} | ${n(total, 1)} | ${half.scoringWorkers} |`);
    p();
    const biggest = Object.entries(s).sort((a, b) => (b[1] as number) - (a[1] as number))[0]!;
    p(`The largest scoring stage is ${biggest[0]} (${n(biggest[1] as number, 1)} µs, ${pct((biggest[1] as number) / Math.max(1e-9, total))} of scoring).`);
    p();
  }
}

// ---- backlog throughput
if (ok(tp)) {
  p(`## 2. Backlog throughput — \`bench/pipeline-throughput.ts\`${from('pipeline-throughput')}`);
  p();
  p(`A topic (3 partitions) pre-filled with ${n(tp.events)} events in event-time order (${tp.eventsPerSession} per session), read from the earliest offset by fresh consumer groups. Rates are steady-state (first record to last).`);
  p();
  p('| Reader | events/s | ratio to kafkajs consume-only |');
  p('|---|---|---|');
  const rows: [string, Json][] = [
    ['processor, 1 scoring worker', tp.processor],
    ['processor, 1 scoring worker, kafkajs producer (its producer under --exactly-once)', tp.processorKafkajsProducer],
    ['processor, 2 scoring workers', tp.processorTwoScoringWorkers],
    ['kafkajs consume-only', tp.baselines.kafkajsConsumeOnly],
    ['@platformatic/kafka consume-only', tp.baselines.platformaticConsumeOnly],
    ['kafkajs passthrough (kafkajs producer, acks=all)', tp.baselines.kafkajsPassthrough],
    ['kafkajs passthrough (@platformatic/kafka producer, acks=all)', tp.baselines.platformaticProducerPassthrough],
  ];
  for (const [name, x] of rows) if (x) p(`| ${name} | ${n(x.eventsPerSecond)} | ${n(x.eventsPerSecond / tp.baselines.kafkajsConsumeOnly.eventsPerSecond, 3)} |`);
  p();
  p(`The processor published ${n(tp.processor.signals)} signals for ${n(tp.events)} events (a backlog tick coalesces a session's events into one scoring) in ${n(tp.processor.deliveries)} deliveries; its main thread was busy ${pct(tp.processor.mainThreadUtilisation)} of the time. A second scoring worker gave ${n(tp.ratios.twoWorkersToOne, 2)}× the rate of one on this 2-core box. Producing is the transport's bottleneck: the passthrough with kafkajs's producer reached ${n(tp.ratios.passthroughToKafkajs, 3)} of consume-only, with @platformatic/kafka's producer ${n(tp.ratios.platformaticProducerToKafkajsProducer, 2)}× that.${tp.processorKafkajsProducer ? ` The processor produces with @platformatic/kafka (kafkajs only under \`--exactly-once\`); with the kafkajs producer it ran at ${n(tp.processorKafkajsProducer.eventsPerSecond)} events/s in the same run, so its own producer gave ${n(tp.ratios.processorToKafkajsProducerProcessor, 2)}× that rate.` : ''}`);
  p();
}

// ---- memory
if (ok(mem)) {
  p(`## 3. Memory per open session — \`bench/session-memory.ts\`${from('session-memory')}`);
  p();
  p('| State | sessions | bytes/session |');
  p('|---|---|---|');
  for (const row of mem.storeBySize as Json[]) p(`| SessionStore | ${n(row.sessions)} | **${n(row.bytesPerSession)}** |`);
  p(`| baseline: Map of records | ${n(mem.baselines.mapOfRecords.sessions)} | ${n(mem.baselines.mapOfRecords.bytesPerSession)} |`);
  p(`| baseline: groupBy + scan | ${n(mem.baselines.groupByScan.sessions)} | ${n(mem.baselines.groupByScan.bytesPerSession)} |`);
  p();
}

// ---- recovery
const rec = r.recovery as Json;
if (ok(rec)) {
  p(`## 4. Recovery — \`bench/recovery.ts\`${from('recovery')}`);
  p();
  p(`${n(rec.openSessions)} open sessions (${n(rec.events)} events); the processor stops gracefully, ${n(rec.freshEventsBeforeRestart)} new events are produced, and a new processor in the same group starts. Replayed records rebuild the sessions without publishing again (replay marks), so the first signal after a restart is a new event's.`);
  p();
  p('| Start | s to first record | s to first signal | s to all sessions rebuilt | replayed | not published again |');
  p('|---|---|---|---|---|---|');
  p(`| restart | ${rec.restart.secondsToFirstRecord} | **${rec.restart.secondsToFirstSignal}** | ${rec.restart.secondsToAllSessionsRebuilt} | ${n(rec.restart.replayed)} | ${n(rec.restart.suppressed)} |`);
  p(`| baseline: cold start | ${rec.baselines.coldStart.secondsToFirstRecord} | **${rec.baselines.coldStart.secondsToFirstSignal}** | ${rec.baselines.coldStart.secondsToAllSessionsRebuilt} | ${n(rec.baselines.coldStart.replayed)} | ${n(rec.baselines.coldStart.suppressed)} |`);
  p();
}

// ---- profile
const prof = r.profile as Json;
if (ok(prof)) {
  p(`## 5. Where the time goes — \`bench/profile.ts\`${from('profile')}`);
  p();
  p(`The processor under ${n(prof.rate)} events/s of open-loop load in a child process run with \`node --cpu-prof\`; self time over ${n(prof.windowSeconds, 1)} s after start-up.`);
  p();
  const table = (title: string, s: Json): void => {
    p(`${title}: idle ${pct(s.idleShare)}, garbage collector ${pct(s.gcShare)}.`);
    p();
    p('| Self time | Function (file) |');
    p('|---|---|');
    for (const f of (s.functions as Json[]).slice(0, 12)) p(`| ${(f.share * 100).toFixed(1)}% | \`${f.where}\` |`);
    p();
    p('| Self time | File or package |');
    p('|---|---|');
    for (const f of (s.files as Json[]).slice(0, 8)) p(`| ${(f.share * 100).toFixed(1)}% | \`${f.where}\` |`);
    p();
  };
  if (prof.mainThread) table('Main thread (Kafka I/O, ingestion, session store, signals)', prof.mainThread);
  (prof.scoringWorkers as Json[]).forEach((w, i) => table(`Scoring worker ${i + 1} (rasterize → encode → assign → neighbours → readout)`, w));
}

// ---- the scoring core's cost per view, per neighbours search and workload
const sc = r['scoring-core'];
if (sc && ok(sc)) {
  p(`## 5b. Scoring cost per view — \`bench/scoring-core.ts\`${from('scoring-core')}`);
  p();
  p(`What a scoring worker does per scored view, without Kafka or threads: the shipped bundle's scoring core on packed views (final and prefix states) in ticks of ${n(sc.tick)}, ${sc.backend} backend; median of ${n(sc.rounds)} rounds, the variants alternating within each round. Workloads: \`generator\` (sessions of the population the bundle was trained on) and \`open-loop\` (the sessions bench/latency.ts sends, away from the training embeddings). Variants differ only in the neighbours search; "differ" counts views whose risk (band) is not the first variant's.`);
  p();
  p('| workload | views | neighbours search | rasterize | encode | assign | neighbours | readout | µs per view | views per second | risk differs | band differs |');
  p('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const w of sc.workloads as Json[]) {
    for (const v of w.variants as Json[]) {
      const u = v.usPerView as Json;
      p(`| ${w.workload} | ${n(w.views)} | ${v.variant} | ${n(u.rasterize, 1)} | ${n(u.encode, 1)} | ${n(u.assign, 1)} | ${n(u.neighbours, 1)} | ${n(u.readout, 1)} | ${n(u.total, 1)} | ${n(1e6 / u.total)} | ${n(v.againstFirst.riskDiffers)} | ${n(v.againstFirst.bandDiffers)} |`);
    }
  }
  p();
  const cheaper = (a: number, b: number): string => (b >= a ? `${n(b / Math.max(1e-9, a), 1)}× cheaper than` : `${n(a / Math.max(1e-9, b), 1)}× dearer than`);
  for (const w of sc.workloads as Json[]) {
    const [first, ...others] = w.variants as Json[];
    if (!first || others.length === 0) continue;
    p(`On \`${w.workload}\` the ${first.variant} search is ${others.map((o) => `${cheaper(first.usPerView.neighbours, o.usPerView.neighbours)} ${o.variant} (${n(first.usPerView.neighbours, 1)} against ${n(o.usPerView.neighbours, 1)} µs)`).join(' and ')}; the whole view ${others.map((o) => `${cheaper(first.usPerView.total, o.usPerView.total)} under ${o.variant} (${n(first.usPerView.total, 1)} against ${n(o.usPerView.total, 1)} µs)`).join(' and ')}.`);
    p();
  }
}

// ---- the other benchmarks, as their figures
const covered = new Set(['latency', 'pipeline-throughput', 'session-memory', 'recovery', 'profile', 'scoring-core']);
const rest = Object.entries(r).filter(([k]) => !covered.has(k));
if (rest.length > 0) {
  p('## 6. Other benchmarks');
  p();
  p('Their figures as the run printed them (numbers at the top two levels of each JSON).');
  p();
  for (const [name, v] of rest) {
    p(`### \`bench/${name}.ts\`${from(name)}`);
    p();
    if (!ok(v)) {
      p(`Failed: ${v.error}.`);
      p();
      continue;
    }
    const flat: [string, unknown][] = [];
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'number' || typeof x === 'boolean') flat.push([k, x]);
      else if (x && typeof x === 'object' && !Array.isArray(x)) for (const [k2, y] of Object.entries(x as Json)) if (typeof y === 'number' || typeof y === 'boolean') flat.push([`${k}.${k2}`, y]);
    }
    p('| figure | value |');
    p('|---|---|');
    for (const [k, x] of flat.slice(0, 30)) p(`| ${k} | ${typeof x === 'number' ? n(x, 3) : String(x)} |`);
    p();
  }
}

writeFileSync(outFile, `${out.join('\n')}\n`);
process.stdout.write(`${outFile === join(root, 'docs', 'benchmarks.md') ? 'docs/benchmarks.md' : outFile} written from ${file}\n`);
