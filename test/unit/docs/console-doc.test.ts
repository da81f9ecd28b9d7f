// docs/console.md states the console's bounds: they are the ones the code enforces
// (test/unit/console/state.test.ts and server.test.ts hold the code to them). The doc's commands
// run against a real broker in test/integration/console-doc.test.ts, its helm line in helm.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSOLE_LIMITS, LAST_EVENT_TEXT_LIMIT, USER_SESSIONS } from '../../../src/console/state.ts';
import { repoRoot } from '../../helpers/docs.ts';

/** The rows of the doc's "at most" table: first cell → the number in the second. */
function stated(): Map<string, number> {
  const text = readFileSync(join(repoRoot, 'docs', 'console.md'), 'utf8');
  const table = text.slice(text.indexOf('| what the console keeps | at most |'));
  const rows = new Map<string, number>();
  for (const line of table.split('\n').slice(2)) {
    const m = /^\| (.+?) \| ([\d,]+) \|$/.exec(line);
    if (!m) break;
    rows.set(m[1]!, Number(m[2]!.replaceAll(',', '')));
  }
  return rows;
}

describe('docs/console.md', () => {
  it('states the bounds the console enforces', () => {
    const rows = [...stated()];
    const find = (start: string): number | undefined => rows.find(([what]) => what.startsWith(start))?.[1];
    expect(rows).toHaveLength(9);
    expect({
      feed: find('alerts in the feed'),
      backlog: find('alerts sent to a page'),
      sessions: find('sessions in the session index'),
      signalsPerSession: find("signals in a session's risk path"),
      alertsPerSession: find('alerts per session'),
      mixMinutes: find('minutes of the per-minute charts'),
      streams: find('live streams'),
    }).toEqual(CONSOLE_LIMITS);
    expect(find('sessions a user lookup returns')).toBe(USER_SESSIONS);
    expect(find("characters of an event's type")).toBe(LAST_EVENT_TEXT_LIMIT);
  });
});
