// Ground-truth journey archetypes for the simulator. Each is a Markov chain over page/action
// states with its own start distribution, dwell times, session count and churn propensity.
// They are deliberately far apart in shape (length, event mix, dwell) so a downstream
// clustering can recover them, while each path still reads like a real shop visit.

export const ARCHETYPES = [
  'focused_buyer',
  'comparison_shopper',
  'casual_browser',
  'bouncer',
  'frustrated_support_seeker',
  'disengaging_user',
] as const;
export type Archetype = (typeof ARCHETYPES)[number];

/** Page/action states; each emits one event (see STATE_EVENT_TYPE). */
export const STATES = [
  'home',
  'category',
  'search',
  'product',
  'add_to_cart',
  'cart',
  'remove_from_cart',
  'checkout',
  'purchase',
  'help',
  'support',
  'login',
  'account',
  'logout',
] as const;
export type State = (typeof STATES)[number];
export type Next = State | 'exit';

/** The ClickEvent type each state emits (all from DEFAULT_EVENT_TYPES). */
export const STATE_EVENT_TYPE: Record<State, string> = {
  home: 'page_view',
  category: 'page_view',
  search: 'search',
  product: 'product_view',
  add_to_cart: 'add_to_cart',
  cart: 'page_view',
  remove_from_cart: 'remove_from_cart',
  checkout: 'checkout',
  purchase: 'purchase',
  help: 'page_view',
  support: 'support_contact',
  login: 'login',
  account: 'page_view',
  logout: 'logout',
};

/** Types outside DEFAULT_EVENT_TYPES, sprinkled in rarely: real feeds always carry some. */
export const UNKNOWN_EVENT_TYPES = ['wishlist_add', 'share', 'newsletter_signup', 'video_play'] as const;

export interface ArchetypeModel {
  name: Archetype;
  /** Readable label for summaries and cluster naming. */
  label: string;
  start: Partial<Record<State, number>>;
  transitions: Partial<Record<State, Partial<Record<Next, number>>>>;
  /** Dwell on a page: log-normal with this median (ms) times the state factor, and sigma. */
  dwellMedianMs: number;
  dwellSigma: number;
  /** Probability that a user whose sessions are all of this archetype churns. */
  churnProbability: number;
  /** Relative weight for how many sessions a user of this archetype has. */
  loyalty: number;
  /** Mean time between a user's sessions. */
  returnGapMs: number;
  /** Per-step probability of an unknown event type, and which ones are likely. */
  unknownRate: number;
  unknownWeights: readonly number[];
  /** Hard cap on steps per session. */
  maxSteps: number;
  referrers: Partial<Record<string, number>>;
}

/** Dwell differs by page kind whatever the archetype: a product page is read longer than a cart. */
export const STATE_DWELL_FACTOR: Record<State, number> = {
  home: 0.8,
  category: 1,
  search: 0.7,
  product: 1.8,
  add_to_cart: 0.4,
  cart: 0.9,
  remove_from_cart: 0.4,
  checkout: 1.5,
  purchase: 0.6,
  help: 1.6,
  support: 2.5,
  login: 0.5,
  account: 1.2,
  logout: 0.3,
};

const DAY = 86_400_000;

export const ARCHETYPE_MODELS: Record<Archetype, ArchetypeModel> = {
  focused_buyer: {
    name: 'focused_buyer',
    label: 'Focused buyer',
    start: { search: 0.5, home: 0.2, product: 0.15, login: 0.15 },
    transitions: {
      login: { search: 0.6, home: 0.2, product: 0.2 },
      home: { search: 0.7, category: 0.2, product: 0.1 },
      search: { product: 0.9, search: 0.08, exit: 0.02 },
      category: { product: 0.9, exit: 0.1 },
      product: { add_to_cart: 0.76, product: 0.1, search: 0.1, exit: 0.04 },
      add_to_cart: { cart: 0.55, checkout: 0.35, search: 0.1 },
      cart: { checkout: 0.92, exit: 0.08 },
      checkout: { purchase: 0.9, cart: 0.04, exit: 0.06 },
      purchase: { exit: 0.75, account: 0.15, logout: 0.1 },
      account: { exit: 0.7, logout: 0.3 },
      logout: { exit: 1 },
    },
    dwellMedianMs: 7_000,
    dwellSigma: 0.55,
    churnProbability: 0.08,
    loyalty: 4,
    returnGapMs: 3 * DAY,
    unknownRate: 0.01,
    unknownWeights: [1, 1, 1, 1],
    maxSteps: 25,
    referrers: { direct: 0.4, search_engine: 0.3, email: 0.3 },
  },
  comparison_shopper: {
    name: 'comparison_shopper',
    label: 'Comparison shopper',
    start: { search: 0.8, home: 0.2 },
    transitions: {
      home: { search: 0.9, category: 0.1 },
      search: { product: 0.8, search: 0.17, exit: 0.03 },
      category: { product: 0.7, search: 0.3 },
      product: { product: 0.32, search: 0.3, add_to_cart: 0.22, category: 0.02, cart: 0.1, exit: 0.04 },
      add_to_cart: { product: 0.4, search: 0.25, cart: 0.35 },
      cart: { remove_from_cart: 0.5, checkout: 0.15, product: 0.2, search: 0.1, exit: 0.05 },
      remove_from_cart: { search: 0.4, product: 0.4, cart: 0.15, exit: 0.05 },
      checkout: { purchase: 0.45, cart: 0.35, exit: 0.2 },
      purchase: { exit: 1 },
    },
    dwellMedianMs: 25_000,
    dwellSigma: 0.7,
    churnProbability: 0.25,
    loyalty: 4,
    returnGapMs: 1.5 * DAY,
    unknownRate: 0.04,
    unknownWeights: [6, 2, 0.5, 1],
    maxSteps: 60,
    referrers: { search_engine: 0.5, ads: 0.3, direct: 0.2 },
  },
  casual_browser: {
    name: 'casual_browser',
    label: 'Casual browser',
    start: { home: 0.6, category: 0.3, product: 0.1 },
    transitions: {
      home: { category: 0.82, product: 0.05, exit: 0.07, search: 0.06 },
      category: { category: 0.5, product: 0.22, home: 0.16, exit: 0.12 },
      product: { category: 0.55, home: 0.15, product: 0.08, add_to_cart: 0.04, exit: 0.18 },
      search: { product: 0.6, category: 0.25, exit: 0.15 },
      add_to_cart: { category: 0.5, cart: 0.2, exit: 0.3 },
      cart: { category: 0.5, exit: 0.5 },
    },
    dwellMedianMs: 45_000,
    dwellSigma: 0.8,
    churnProbability: 0.35,
    loyalty: 3,
    returnGapMs: 2 * DAY,
    unknownRate: 0.03,
    unknownWeights: [0.5, 2, 1, 4],
    maxSteps: 40,
    referrers: { social: 0.5, direct: 0.3, search_engine: 0.2 },
  },
  bouncer: {
    name: 'bouncer',
    label: 'Bouncer',
    start: { product: 0.6, home: 0.25, category: 0.15 },
    transitions: {
      home: { exit: 0.88, category: 0.12 },
      product: { exit: 0.88, product: 0.08, category: 0.04 },
      category: { exit: 0.85, product: 0.15 },
    },
    dwellMedianMs: 2_000,
    dwellSigma: 0.5,
    churnProbability: 0.72,
    loyalty: 1.2,
    returnGapMs: 5 * DAY,
    unknownRate: 0.005,
    unknownWeights: [1, 1, 1, 1],
    maxSteps: 5,
    referrers: { ads: 0.5, social: 0.3, search_engine: 0.2 },
  },
  frustrated_support_seeker: {
    name: 'frustrated_support_seeker',
    label: 'Frustrated support-seeker',
    start: { help: 0.45, search: 0.1, account: 0.15, login: 0.2, support: 0.1 },
    transitions: {
      login: { account: 0.6, help: 0.4 },
      account: { help: 0.45, support: 0.4, account: 0.05, exit: 0.1 },
      search: { search: 0.25, help: 0.3, support: 0.35, exit: 0.1 },
      help: { help: 0.3, search: 0.15, support: 0.45, exit: 0.1 },
      support: { help: 0.3, support: 0.3, account: 0.1, cart: 0.05, exit: 0.25 },
      product: { search: 0.5, help: 0.3, exit: 0.2 },
      cart: { remove_from_cart: 0.6, help: 0.3, exit: 0.1 },
      remove_from_cart: { help: 0.5, exit: 0.5 },
    },
    dwellMedianMs: 12_000,
    dwellSigma: 1.0,
    churnProbability: 0.66,
    loyalty: 2.5,
    returnGapMs: 1 * DAY,
    unknownRate: 0.01,
    unknownWeights: [0.2, 1, 0.2, 1],
    maxSteps: 40,
    referrers: { direct: 0.5, email: 0.4, search_engine: 0.1 },
  },
  disengaging_user: {
    name: 'disengaging_user',
    label: 'Disengaging user',
    start: { login: 0.9, home: 0.1 },
    transitions: {
      login: { account: 0.65, home: 0.25, category: 0.1 },
      home: { category: 0.2, account: 0.3, logout: 0.35, exit: 0.15 },
      account: { account: 0.2, home: 0.1, logout: 0.55, exit: 0.15 },
      category: { product: 0.3, home: 0.1, logout: 0.4, exit: 0.2 },
      product: { exit: 0.5, logout: 0.3, category: 0.2 },
      logout: { exit: 1 },
    },
    dwellMedianMs: 9_000,
    dwellSigma: 0.65,
    churnProbability: 0.85,
    loyalty: 3,
    returnGapMs: 4 * DAY,
    unknownRate: 0.01,
    unknownWeights: [0.2, 0.2, 1, 0.2],
    maxSteps: 20,
    referrers: { email: 0.6, direct: 0.4 },
  },
};

/** Default share of users per primary archetype. */
export const DEFAULT_ARCHETYPE_MIX: Record<Archetype, number> = {
  focused_buyer: 0.15,
  comparison_shopper: 0.2,
  casual_browser: 0.25,
  bouncer: 0.15,
  frustrated_support_seeker: 0.1,
  disengaging_user: 0.15,
};

/**
 * Relative traffic per UTC hour: a night trough, a lunchtime bump and an evening peak,
 * the usual shape of consumer web traffic.
 */
export const HOURLY_TRAFFIC: readonly number[] = [
  0.35, 0.22, 0.15, 0.1, 0.08, 0.1, 0.2, 0.4, 0.6, 0.7, 0.75, 0.8,
  0.9, 0.85, 0.75, 0.72, 0.75, 0.8, 0.9, 1, 1, 0.95, 0.75, 0.5,
];
