import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.ts';
import { ModelFit } from '../../../src/processor/model-fit.ts';

function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) });
  return { log, lines };
}

describe('model fit: unknown event types and novel signals', () => {
  it('counts unknown types by topic only, logs the share at the first report, and warns with the fix when most events are "other"', async () => {
    const { log, lines } = capture();
    const registry = new Registry();
    const metrics = createMetrics(registry);
    let now = 0;
    const fit = new ModelFit({ eventTypes: ['page_view', 'purchase'], log, metrics, now: () => now, firstReportAfter: 300, reportEveryMs: 60_000 });
    expect(lines[0]?.msg).toMatch(/^the model knows 2 event types; events of any other type share its "other" column/);
    for (let i = 0; i < 300; i++) fit.observeEvent('clicks', i % 10 < 7 ? 'clicks' : i % 10 < 9 ? 'carts' : 'page_view');
    fit.maybeReport();
    const warn = lines.at(-1)!;
    expect(warn.level).toBe(40);
    expect(warn.msg).toBe(
      'the model does not fit this data: 90.0% of 300 events have an event type the model does not know (clicks 210, carts 60). Its clusters and churn risks say little here: ' +
        'map your type names to the model’s with ingestion.mapping.type.values (docs/ingestion.md), or train a model on your own data: ' +
        'journeylens train --config CONFIG --brokers HOST:PORT --topic TOPIC --churn-after 14d --out BUNDLE, then run with --bundle BUNDLE (docs/quickstart.md).',
    );
    expect(warn).toMatchObject({ events: 300, unknownTypeEvents: 270 });
    const text = await registry.metrics();
    expect(text).toContain('journeylens_events_unknown_type_total{topic="clicks"} 270');
    expect(text).not.toMatch(/unknown_type_total\{[^}]*type=/);

    // no new report before the period, then a periodic one
    const before = lines.length;
    fit.observeEvent('clicks', 'page_view');
    fit.maybeReport();
    expect(lines.length).toBe(before);
    now = 60_000;
    fit.maybeReport();
    expect(lines.length).toBe(before + 1);
  });

  it('logs the share at info when the model fits, and warns when most signals are novel', () => {
    const { log, lines } = capture();
    const fit = new ModelFit({ eventTypes: ['a', 'b'], log, firstReportAfter: 10 });
    for (let i = 0; i < 400; i++) fit.observeEvent('t', i % 20 === 0 ? 'z' : 'a');
    fit.maybeReport();
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: '5.0% of 400 events have an event type the model does not know (z 20)' });
    for (let i = 0; i < 60; i++) fit.observeSignal(i % 3 !== 0);
    fit.observeEvent('t', 'a');
    fit.report();
    expect(lines.at(-1)?.level).toBe(40);
    expect(lines.at(-1)?.msg).toMatch(/^the model does not fit this data: 66\.7% of 60 signals are novel \(unlike every session the model was trained on\)\. .*journeylens train /);
  });

  it('remembers a bounded number of type names (a wrongly mapped id field must not grow memory or logs)', () => {
    const { log, lines } = capture();
    const fit = new ModelFit({ eventTypes: ['a'], log, firstReportAfter: 1 });
    for (let i = 0; i < 1000; i++) fit.observeEvent('t', `user-${i}`);
    fit.report();
    const msg = lines.at(-1)!.msg;
    expect(msg).toContain('and 800 more of rarer types');
    expect(msg.match(/user-\d+ 1/g)).toHaveLength(5);
  });
});
