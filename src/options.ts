// The one way options are validated: a zod schema per set of options, and one formatter that
// turns each problem into "<option> <rule>", naming the option the way the user wrote it (a path
// such as ingestion.mapping.timestamp.unit, a flag and its env variable, or "webhook: capacity") and
// what a valid value looks like. A problem is a UserError (CONFIG_INVALID, exit code 2).
import { type z } from 'zod';
import { ErrorCodes, UserError } from './errors.ts';

export interface OptionNaming {
  /** How the option at `path` is named in messages. */
  name(path: readonly PropertyKey[]): string;
  /**
   * With a heading, every problem is listed under it, one per line; without one, the message is
   * the first problem alone.
   */
  heading?: string;
  /**
   * 'schema': the schema's own messages are the rules (schemas that word every rule themselves);
   * 'generic' (default): zod's built-in checks are worded here ("must be at least 1").
   */
  rules?: 'schema' | 'generic';
  /** Extra text for unknown keys under an object, by that object's key (e.g. the known field names). */
  known?: Record<string, string>;
}

/** `ingestion.mapping.timestamp.unit`, with array indexes as [n]. */
export function optionPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function describeIssue(issue: z.core.$ZodIssue, known: Record<string, string>): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      // zod leaves `input` out of issues; its message says what was received.
      return issue.message.endsWith('received undefined') ? 'is required' : `must be ${article(issue.expected === 'int' ? 'integer' : issue.expected)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return issue.message;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    case 'unrecognized_keys': {
      const parent = issue.path.at(-1);
      const extra = typeof parent === 'string' && known[parent] !== undefined ? ` (${known[parent]})` : '';
      return `has unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}${extra}`;
    }
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message;
    case 'invalid_union': {
      const best = deepestBranchIssue(issue);
      return best === undefined ? issue.message : describeIssue(best, known);
    }
    default:
      return issue.message;
  }
}

/**
 * A union's own message says what the alternatives are; but when one branch got past the
 * type check (an object with a bad `unit`, a string failing a custom rule), that branch's issue
 * is the useful one.
 */
function deepestBranchIssue(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue | undefined {
  const rank = (i: z.core.$ZodIssue): number => i.path.length * 2 + (i.code === 'invalid_type' || i.code === 'invalid_union' ? 0 : 1);
  const best = issue.errors.flat().sort((a, b) => rank(b) - rank(a))[0];
  return best !== undefined && rank(best) > 0 ? best : undefined;
}

function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  if (issue.code === 'invalid_union') {
    const best = deepestBranchIssue(issue);
    if (best !== undefined) return [...issue.path, ...issuePath(best)];
  }
  return issue.path;
}

/** One line per problem: "ingestion.mapping.timestamp.unit must be one of ms, s, iso". */
export function formatOptionIssues(error: z.ZodError, naming: OptionNaming): string[] {
  const known = naming.known ?? {};
  return error.issues.map((issue) => `${naming.name(issuePath(issue))} ${naming.rules === 'schema' ? issue.message : describeIssue(issue, known)}`);
}

/** Validates `raw` against `schema` and returns the parsed options; a UserError (CONFIG_INVALID, exit code 2) otherwise. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, naming: OptionNaming): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = formatOptionIssues(result.error, naming);
  const message = naming.heading !== undefined ? `${naming.heading}\n  ${lines.join('\n  ')}` : lines[0]!;
  throw new UserError(ErrorCodes.CONFIG_INVALID, message, { exitCode: 2 });
}

/**
 * Options of one component whose schema words its own rules: messages read
 * "<component>: <option> <rule>", e.g. "webhook: capacity must be an integer ≥ 1, got 0.".
 */
export function componentOptions(component: string): OptionNaming {
  return { name: (path) => `${component}: ${path.map(String).join('.')}`, rules: 'schema' };
}

/** An error function for zod checks: `rule` followed by the value that broke it (", got 0" and `end`). */
export function gotValue(rule: string, end = ''): (issue: { input?: unknown }) => string {
  return (issue) => `${rule}, got ${String(issue.input)}${end}`;
}
