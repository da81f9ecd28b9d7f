// One simulated session: walk an archetype's Markov chain and turn each state into a
// ClickEvent with a realistic page path, dwell time and cart value.
import { type ClickEvent } from '../contracts/records.ts';
import {
  type Archetype,
  type Next,
  type State,
  ARCHETYPE_MODELS,
  STATE_DWELL_FACTOR,
  STATE_EVENT_TYPE,
  UNKNOWN_EVENT_TYPES,
} from './archetypes.ts';
import { fnv1a32 } from '../util/hash.ts';
import { Rng } from '../util/prng.ts';

const CATEGORIES = ['shoes', 'electronics', 'books', 'garden', 'toys', 'kitchen', 'sports', 'beauty'] as const;
const SEARCH_TERMS: Record<(typeof CATEGORIES)[number], readonly string[]> = {
  shoes: ['running shoes', 'sneakers', 'boots'],
  electronics: ['headphones', 'usb-c charger', 'laptop'],
  books: ['thriller', 'cookbook', 'kids books'],
  garden: ['hose', 'planter', 'lawn mower'],
  toys: ['lego', 'puzzle', 'board game'],
  kitchen: ['knife set', 'coffee maker', 'pan'],
  sports: ['yoga mat', 'dumbbells', 'bike helmet'],
  beauty: ['shampoo', 'sunscreen', 'perfume'],
};
const HELP_TOPICS = ['shipping', 'returns', 'payment', 'order-status', 'account', 'warranty'] as const;
const CATALOG_SIZE = 2000;

export interface SessionContext {
  sessionId: string;
  userId: string;
  /** Event time of the first event (ms). */
  start: number;
  /** 0 for the user's first session, 1 for the second, ... */
  ordinal: number;
  device: string;
}

/** Product price, fixed per product id so the same product always costs the same. */
export function productPrice(productId: number): number {
  const r = new Rng(fnv1a32(`price:${productId}`));
  return round2(Math.min(2000, Math.max(2, r.logNormal(35, 0.9))));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Walks the chain; `rng` should be dedicated to this session so content is order-independent. */
export function simulateSession(rng: Rng, archetype: Archetype, ctx: SessionContext): ClickEvent[] {
  const model = ARCHETYPE_MODELS[archetype];
  const events: ClickEvent[] = [];
  const cart: number[] = [];
  let category: (typeof CATEGORIES)[number] = rng.pick(CATEGORIES);
  let product = drawProduct(rng, category);
  let helpTopic: string = rng.pick(HELP_TOPICS);
  let t = ctx.start;
  // Disengaging users leave sooner on every return visit: the signal that precedes churn.
  const leaveBoost = archetype === 'disengaging_user' ? 1 + 0.7 * ctx.ordinal : 1;

  const emit = (type: string, page: string | null, value: number | null, properties: Record<string, string>, dwellFactor: number): void => {
    const durationMs = Math.max(200, Math.round(rng.logNormal(model.dwellMedianMs * dwellFactor, model.dwellSigma)));
    if (events.length === 0) {
      properties = { ...properties, referrer: weightedKey(rng, model.referrers), device: ctx.device };
    }
    events.push({
      eventId: `${ctx.sessionId}-${events.length}`,
      sessionId: ctx.sessionId,
      userId: ctx.userId,
      timestamp: t,
      type,
      page,
      durationMs,
      value,
      properties,
    });
    // Next event after the dwell plus a page-load / network delay.
    t += durationMs + Math.round(rng.logNormal(350, 0.5));
  };

  let state: State = weightedKey(rng, model.start) as State;
  for (let step = 0; step < model.maxSteps; step++) {
    if (rng.chance(model.unknownRate)) {
      const type = UNKNOWN_EVENT_TYPES[rng.weighted(model.unknownWeights)] ?? 'share';
      const page = type === 'newsletter_signup' ? '/' : `/product/${product}`;
      emit(type, page, null, {}, 0.5);
    }
    let page: string | null;
    let value: number | null = null;
    const properties: Record<string, string> = {};
    switch (state) {
      case 'home':
        page = '/';
        break;
      case 'category':
        if (rng.chance(0.6)) category = rng.pick(CATEGORIES);
        page = `/category/${category}`;
        break;
      case 'search':
        if (rng.chance(0.5)) category = rng.pick(CATEGORIES);
        page = '/search';
        properties['query'] = rng.pick(SEARCH_TERMS[category]);
        break;
      case 'product':
        product = drawProduct(rng, category);
        page = `/product/${product}`;
        break;
      case 'add_to_cart':
        page = `/product/${product}`;
        value = productPrice(product);
        cart.push(value);
        break;
      case 'cart':
        page = '/cart';
        break;
      case 'remove_from_cart': {
        page = '/cart';
        const removed = cart.length > 0 ? cart.splice(rng.int(0, cart.length - 1), 1)[0] : undefined;
        value = removed ?? null;
        break;
      }
      case 'checkout':
        page = '/checkout';
        // "Buy now" from the product page: checkout without a visible add_to_cart.
        if (cart.length === 0) cart.push(productPrice(product));
        value = cartTotal(cart);
        break;
      case 'purchase':
        page = '/checkout/confirmation';
        value = cartTotal(cart);
        cart.length = 0;
        break;
      case 'help':
        if (rng.chance(0.5)) helpTopic = rng.pick(HELP_TOPICS);
        page = `/help/${helpTopic}`;
        break;
      case 'support':
        page = '/help/contact';
        properties['channel'] = rng.pick(['chat', 'email', 'phone']);
        properties['topic'] = helpTopic;
        break;
      case 'login':
        page = '/account/login';
        break;
      case 'account':
        page = rng.chance(0.7) ? '/account/orders' : '/account/settings';
        break;
      case 'logout':
        page = '/account/logout';
        break;
    }
    emit(STATE_EVENT_TYPE[state], page, value, properties, STATE_DWELL_FACTOR[state]);

    const row = model.transitions[state] ?? { exit: 1 };
    const keys = Object.keys(row) as Next[];
    const weights = keys.map((k) => (row[k] ?? 0) * (k === 'exit' || k === 'logout' ? leaveBoost : 1));
    const next = keys[rng.weighted(weights)] ?? 'exit';
    if (next === 'exit') break;
    state = next;
  }
  return events;
}

function cartTotal(cart: readonly number[]): number | null {
  if (cart.length === 0) return null;
  return round2(cart.reduce((a, b) => a + b, 0));
}

/** Popularity is roughly Zipf (log-uniform ids), and ids are grouped by category. */
function drawProduct(rng: Rng, category: (typeof CATEGORIES)[number]): number {
  const rank = Math.floor(Math.exp(rng.next() * Math.log(CATALOG_SIZE / CATEGORIES.length)));
  return rank * CATEGORIES.length + CATEGORIES.indexOf(category);
}

function weightedKey(rng: Rng, table: Partial<Record<string, number>>): string {
  const keys = Object.keys(table);
  return keys[rng.weighted(keys.map((k) => table[k] ?? 0))] ?? keys[0] ?? 'direct';
}
