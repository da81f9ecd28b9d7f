// Issue 17, item 4: train from the user's own records — their mapping, no labels file, no
// spec.json (the vocabulary learned), a partial spec, and warnings with numbers for small data.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_TYPES } from '../../../src/journey/image-spec.ts';
import { foreignClickstream } from '../../helpers/foreign-clickstream.ts';
import { removeTempDirs, runCli, tempDir } from './run-cli.ts';

describe('journeylens train on a foreign-shaped file', () => {
  let dir: string;
  let events: string;
  let config: string;
  beforeAll(() => {
    dir = tempDir();
    events = join(dir, 'clicks.jsonl');
    config = join(dir, 'journeylens.json');
    const { records } = foreignClickstream({ users: 80, seed: 5, start: Date.UTC(2026, 1, 1), time: 'iso' });
    writeFileSync(events, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  });
  afterAll(() => removeTempDirs());

  it('inspect proposes the config; train reads through it, learns the vocabulary, derives labels, and warns with numbers', async () => {
    const inspect = await runCli('inspect', '--events', events, '--out', config);
    expect(inspect.code).toBe(0);
    expect(inspect.stderr).toMatch(/timestamp <- when: ISO-8601 strings/);
    expect(JSON.parse(inspect.stdout)).toEqual(JSON.parse(readFileSync(config, 'utf8')));

    const bundle = join(dir, 'bundle');
    const train = await runCli('train', '--config', config, '--events', events, '--churn-after', '14d', '--out', bundle, '--epochs', '1', '--clusterer', 'kmeans', '--k', '3', '--no-progress');
    expect(train.code).toBe(0);
    expect(train.stderr).toMatch(/^read (\d+) records: \1 events; (\d+) sessions$/m);
    // the proposal maps five of the six names onto the default vocabulary, which then covers the data
    expect(train.stderr).toMatch(/^event types: the default vocabulary, which covers the data \(\d\.\d% of events in "other"\)$/m);
    expect(train.stderr).toMatch(/^labels from the history \(--churn-after 14d\): \d+ sessions churned, \d+ retained; \d+ sessions of the last 14d before .* are too recent to tell/m);
    expect(train.stderr).toMatch(/^warning: only \d+ sessions: clusters and churn rates learned from fewer than 1000 sessions are unstable/m);
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { imageSpec: { eventTypes: string[] }; training: { labelRate: number } };
    expect(manifest.imageSpec.eventTypes).toEqual([...DEFAULT_EVENT_TYPES]);
    expect(manifest.training.labelRate).toBeGreaterThan(0.5);

    // the bundle draws a session with its own vocabulary
    const png = join(dir, 's.png');
    const render = await runCli('render', '--config', config, '--events', events, '--bundle', bundle, '--session', String(JSON.parse(readFileSync(events, 'utf8').split('\n')[0]!).visit), '--out', png);
    expect(render.code).toBe(0);
    expect(render.stderr).toMatch(/rows 1-\d+ show all \d+ events/);

    // and eval takes the same config and labels
    const ev = await runCli('eval', '--config', config, '--events', events, '--churn-after', '14d', '--bundle', bundle);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/ROC AUC/);
  }, 120_000);

  it('takes a partial spec.json (its missing fields from the defaults), and learns the vocabulary of unmapped type names', async () => {
    const spec = join(dir, 'partial-spec.json');
    writeFileSync(spec, JSON.stringify({ image: { rows: 12 }, sessionization: { gapMs: 20 * 60_000 } }));
    // the type field as it is, without the values the proposal maps
    const proposed = JSON.parse(readFileSync(config, 'utf8')) as { ingestion: { mapping: Record<string, unknown> } };
    proposed.ingestion.mapping.type = 'action';
    const rawConfig = join(dir, 'raw-types.json');
    writeFileSync(rawConfig, JSON.stringify(proposed));
    const bundle = join(dir, 'bundle-partial');
    const train = await runCli('train', '--config', rawConfig, '--events', events, '--churn-after', '14d', '--spec', spec, '--out', bundle, '--epochs', '1', '--k', '3', '--no-progress');
    expect(train.code).toBe(0);
    expect(train.stderr).toMatch(/^event types learned from the data \(spec\.json names none\): clicks, search_q, carts, help_req, orders, wish; 0\.0% of events fall in "other"; 16 page-category columns$/m);
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { imageSpec: { rows: number; version: number; eventTypes: string[] }; sessionization: { gapMs: number; maxSessionMs: number } };
    expect(manifest.imageSpec).toMatchObject({ rows: 12, version: 1 });
    expect([...manifest.imageSpec.eventTypes].sort()).toEqual(['carts', 'clicks', 'help_req', 'orders', 'search_q', 'wish']);
    expect(manifest.sessionization).toMatchObject({ gapMs: 1_200_000, maxSessionMs: 86_400_000 });
  }, 120_000);

  it('names what is missing or contradictory', async () => {
    const both = await runCli('train', '--events', events, '--labels', join(dir, 'l.csv'), '--churn-after', '14d', '--out', join(dir, 'x'));
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--labels and --churn-after both say who churned: give one of them.');
    const none = await runCli('train', '--out', join(dir, 'x'));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('where are the events? Give --events FILE (JSON Lines or Avro), or --topic TOPIC with --brokers HOST:PORT');
    const badDuration = await runCli('train', '--events', events, '--churn-after', 'two weeks', '--out', join(dir, 'x'));
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('--churn-after must be a duration such as 14d, 36h or 90m, got "two weeks".');
    // without the mapping every record is unusable: the refusal says why and points at the fix
    const raw = await runCli('train', '--events', events, '--churn-after', '14d', '--out', join(dir, 'x'));
    expect(raw.code).toBe(2);
    expect(raw.stderr).toMatch(/no sessions: \d+ records: 0 events, \d+ unusable: \d+ missing_field \(first: .*clicks\.jsonl:1: eventId is missing; .*\)\. Check the ingestion config \(docs\/ingestion\.md\); journeylens inspect proposes one\./);
  });
});
