// `journeylens inspect`: from a sample of a user's records, which field looks like the session,
// the user, the event time (and its unit), the event type (with its values and counts), the page
// and the event id, and a proposed ingestion config built from them. Every choice comes with the
// evidence it rests on, so the user can check it before saving the config.
import type { DEFAULT_EVENT_TYPES } from '../journey/image-spec.ts';

interface FieldStats {
  path: string[];
  present: number;
  strings: number;
  integers: number;
  numbers: number;
  booleans: number;
  distinct: Map<string, number>;
  /** More distinct values than we track. */
  overflow: boolean;
  min: number;
  max: number;
  isoLike: number;
}

const MAX_DISTINCT = 2_000;
const MAX_DEPTH = 3;

function collect(records: readonly object[]): Map<string, FieldStats> {
  const fields = new Map<string, FieldStats>();
  const visit = (v: unknown, path: string[]): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      if (path.length >= MAX_DEPTH) return;
      for (const [k, x] of Object.entries(v)) visit(x, [...path, k]);
      return;
    }
    if (Array.isArray(v) || Buffer.isBuffer(v)) return;
    const key = path.join('\u0000');
    let f = fields.get(key);
    if (f === undefined) fields.set(key, (f = { path, present: 0, strings: 0, integers: 0, numbers: 0, booleans: 0, distinct: new Map(), overflow: false, min: Infinity, max: -Infinity, isoLike: 0 }));
    f.present++;
    if (typeof v === 'string') {
      f.strings++;
      if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v))) f.isoLike++;
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      const n = Number(v);
      f.numbers++;
      if (Number.isInteger(n)) f.integers++;
      if (n < f.min) f.min = n;
      if (n > f.max) f.max = n;
    } else if (typeof v === 'boolean') f.booleans++;
    const text = String(v);
    const seen = f.distinct.get(text);
    if (seen !== undefined) f.distinct.set(text, seen + 1);
    else if (f.distinct.size < MAX_DISTINCT) f.distinct.set(text, 1);
    else f.overflow = true;
  };
  for (const r of records) visit(r, []);
  return fields;
}

const name = (f: FieldStats): string => f.path.join('.');
const last = (f: FieldStats): string => f.path.at(-1)!.toLowerCase();
const distinctCount = (f: FieldStats): number => f.distinct.size;

/** Words that map a data set's own type names onto the default vocabulary. */
const TYPE_SYNONYMS: [RegExp, (typeof DEFAULT_EVENT_TYPES)[number]][] = [
  [/^(page_?view|pageview|view|screen_?view|visit|page)s?$/i, 'page_view'],
  [/^(click|product_?view|product_?click|detail|view_?item|item_?view)s?$/i, 'product_view'],
  [/^(search|query)/i, 'search'],
  [/^(cart|carts|add_?to_?cart|addtocart|basket|add)$/i, 'add_to_cart'],
  [/^(remove|remove_?from_?cart|removefromcart|cart_?remove)s?$/i, 'remove_from_cart'],
  [/^(checkout|begin_?checkout|checkouts)$/i, 'checkout'],
  [/^(order|orders|purchase|purchases|buy|transaction|transactions|sale)$/i, 'purchase'],
  [/^(support|contact|help|ticket|complain)/i, 'support_contact'],
  [/^(login|log_?in|signin|sign_?in)s?$/i, 'login'],
  [/^(logout|log_?out|signout|sign_?out)s?$/i, 'logout'],
];

export interface ProposedField {
  field: string;
  path: string;
  why: string;
}

export interface Proposal {
  /** The ingestion section to save (under "ingestion" in the config file). */
  ingestion: Record<string, unknown>;
  /** One line per ClickEvent field: which record field, and why. */
  chosen: ProposedField[];
  /** What the user should look at: no time field found, no type field, … */
  notes: string[];
  /** The type field's values and counts in the sample, most frequent first. */
  typeValues: [string, number][];
  records: number;
}

function best<T>(items: T[], score: (t: T) => number): T | undefined {
  let top: T | undefined;
  let topScore = 0;
  for (const t of items) {
    const s = score(t);
    if (s > topScore) {
      top = t;
      topScore = s;
    }
  }
  return top;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Proposes an ingestion config for records like `records` (see the file comment). */
export function proposeConfig(records: readonly object[]): Proposal {
  const n = records.length;
  const fields = [...collect(records).values()].filter((f) => f.present >= Math.max(1, n * 0.5));
  const used = new Set<FieldStats>();
  const chosen: ProposedField[] = [];
  const notes: string[] = [];
  const mapping: Record<string, unknown> = {};
  const ingestion: Record<string, unknown> = { format: 'json' };
  const free = (): FieldStats[] => fields.filter((f) => !used.has(f));
  const take = (field: string, f: FieldStats, why: string, source: unknown = name(f)): void => {
    used.add(f);
    chosen.push({ field, path: name(f), why });
    if (name(f) !== field || typeof source !== 'string') mapping[field] = source;
  };

  // event time: numbers in the range of ms or s since the epoch (2000..2100), or ISO strings
  const MS = [946_684_800_000, 4_102_444_800_000];
  const timeUnit = (f: FieldStats): 'ms' | 's' | 'iso' | undefined => {
    if (f.isoLike >= f.present * 0.95) return 'iso';
    if (f.numbers < f.present * 0.95) return undefined;
    if (f.min >= MS[0]! && f.max <= MS[1]!) return 'ms';
    if (f.min >= MS[0]! / 1000 && f.max <= MS[1]! / 1000) return 's';
    return undefined;
  };
  const time = best(free(), (f) => (timeUnit(f) === undefined ? 0 : 1 + (/time|ts|date|stamp|^at$|when/.test(last(f)) ? 2 : 0)));
  if (time !== undefined) {
    const unit = timeUnit(time)!;
    const values = [...time.distinct.keys()].map((v) => (unit === 'iso' ? Date.parse(v) : unit === 's' ? Number(v) * 1000 : Number(v)));
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    take('timestamp', time, `${unit === 'iso' ? 'ISO-8601 strings' : unit === 's' ? 'seconds since the epoch' : 'ms since the epoch'}, ${iso(lo)} to ${iso(hi)}`, { path: name(time), unit });
  } else notes.push('no field looks like an event time (ms or s since the epoch, or ISO-8601): set ingestion.mapping.timestamp by hand');

  // event type: few distinct values that repeat
  const typeScore = (f: FieldStats): number => {
    const d = distinctCount(f);
    if (f.overflow || d < 2 || d > 100 || d > n / 3 || f.strings + f.integers < f.present * 0.95) return 0;
    return 1 + (/type|event|action|kind|name|verb|activity/.test(last(f)) ? 3 : 0) + (f.strings > 0 ? 1 : 0);
  };
  const type = best(free(), typeScore);
  let typeValues: [string, number][] = [];
  if (type !== undefined) {
    typeValues = [...type.distinct].sort((a, b) => b[1] - a[1]);
    const values: Record<string, string> = {};
    for (const [v] of typeValues) {
      const hit = TYPE_SYNONYMS.find(([re]) => re.test(v));
      if (hit && hit[1] !== v) values[v] = hit[1];
    }
    const mapped = Object.keys(values).length;
    take('type', type, `${typeValues.length} values: ${typeValues.slice(0, 8).map(([v, c]) => `${v} ${c}`).join(', ')}${typeValues.length > 8 ? ', …' : ''}${mapped > 0 ? `; ${mapped} mapped onto the default vocabulary` : ''}`, mapped > 0 ? { field: name(type), values } : name(type));
  } else notes.push('no field looks like an event type (a few values that repeat): set ingestion.mapping.type by hand');

  // event id: unique on every record
  const idLike = (f: FieldStats): boolean => f.strings + f.integers >= f.present * 0.99;
  const eventId = best(free(), (f) => (f.present === n && !f.overflow && distinctCount(f) === n && idLike(f) && n >= 2 ? 1 + (/id$|uuid|guid/.test(last(f)) ? 2 : 0) + (/event|message|msg/.test(last(f)) ? 1 : 0) : 0));
  if (eventId !== undefined) take('eventId', eventId, `unique on every sampled record`);
  else {
    ingestion.eventIdFallback = 'hash';
    notes.push('no field is unique on every record, so no event id: eventIdFallback hash gives each event the hash of its bytes (docs/ingestion.md)');
  }

  // session and user: ids that repeat
  const repeatsAsId = (f: FieldStats): boolean => idLike(f) && (f.overflow || (distinctCount(f) >= 2 && distinctCount(f) < f.present));
  const session = best(free(), (f) => (repeatsAsId(f) && /sess|visit|sid$/.test(last(f)) ? 3 : 0));
  const user = best(free().filter((f) => f !== session), (f) => (repeatsAsId(f) && /user|uid|customer|client|visitor|member|account|person|shopper|learner/.test(last(f)) ? 3 : 0));
  if (session !== undefined) take('sessionId', session, `${session.overflow ? `over ${MAX_DISTINCT}` : distinctCount(session)} distinct values in ${n} records (${session.integers > 0 ? 'integers' : 'strings'})`);
  if (user !== undefined) take('userId', user, `${user.overflow ? `over ${MAX_DISTINCT}` : distinctCount(user)} distinct values in ${n} records (${user.integers > 0 ? 'integers' : 'strings'})`);
  if (session === undefined) {
    if (user !== undefined) {
      ingestion.sessionKey = 'userId';
      notes.push('no field looks like a session id: sessions are the user\'s events cut by the inactivity gap (sessionKey userId)');
    } else notes.push('no field looks like a session or a user id: set ingestion.mapping.sessionId by hand');
  }

  const page = best(free(), (f) => (idLike(f) && /page|url|path|screen|uri|item|product|sku|aid|article|route/.test(last(f)) ? 1 : 0));
  if (page !== undefined) take('page', page, `${page.overflow ? `over ${MAX_DISTINCT}` : distinctCount(page)} distinct values`);
  const consent = best(free(), (f) => (/consent|gdpr|optin|opt_in/.test(last(f)) ? 1 : 0));
  if (consent !== undefined) {
    ingestion.consent = { path: name(consent) };
    notes.push(`${name(consent)} looks like a consent field (values ${[...consent.distinct.keys()].slice(0, 5).join(', ')}): events without consent will be left out; check ingestion.consent.granted`);
    used.add(consent);
  }
  const rest = free().map(name);
  if (rest.length > 0) notes.push(`not used: ${rest.slice(0, 12).join(', ')}${rest.length > 12 ? ', …' : ''}`);
  if (Object.keys(mapping).length > 0) ingestion.mapping = mapping;
  return { ingestion, chosen, notes, typeValues, records: n };
}
