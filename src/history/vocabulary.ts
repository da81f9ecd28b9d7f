// The vocabulary of a model trained on a user's data: which event types get their own image
// column, and how many page-category columns. When spec.json does not name the event types, the
// default vocabulary is kept if it already covers the data (the project's own and mapped data,
// so bundles stay comparable: at most 5 % of the events in "other"); otherwise the most frequent types are learned from the data.
import { type ClickEvent } from '../contracts/records.ts';
import { DEFAULT_EVENT_TYPES, IMAGE_SPEC_LIMITS } from '../journey/image-spec.ts';
import { pageCategory } from '../journey/page-category.ts';

export const vocabularyDefaults = {
  /**
   * The default vocabulary is kept while at most this share of the events falls in "other"
   * (the project's simulator has 3 % of such types by design).
   */
  keepDefaultUpTo: 0.05,
  /** Learned types cover at least this share of the events (the rest share "other")... */
  coverage: 0.99,
  /** ...with at most this many columns. */
  maxTypes: 32,
  /** Page-category columns at most, and at least when there are pages. */
  maxPageBuckets: 16,
  /** Distinct page categories remembered (a page mapped from an id field has millions). */
  maxCategoriesTracked: 10_000,
} as const;

export class VocabularyCounter {
  readonly types = new Map<string, number>();
  readonly categories = new Set<string>();
  events = 0;
  pages = 0;

  add(event: ClickEvent): void {
    this.events++;
    this.types.set(event.type, (this.types.get(event.type) ?? 0) + 1);
    if (event.page !== null) {
      this.pages++;
      if (this.categories.size < vocabularyDefaults.maxCategoriesTracked) this.categories.add(pageCategory(event.page));
    }
  }

  /** Share of the events whose type is not in `vocabulary`. */
  otherShare(vocabulary: readonly string[]): number {
    const known = new Set(vocabulary);
    let other = 0;
    for (const [t, n] of this.types) if (!known.has(t)) other += n;
    return other / Math.max(1, this.events);
  }
}

export interface LearnedVocabulary {
  eventTypes: string[];
  /** True when learned from the data; false when the default vocabulary already covered it. */
  learned: boolean;
  /** Share of the events that land in "other" with these types. */
  otherShare: number;
  pageBuckets: number;
}

/** The vocabulary for training data whose spec names none (see the file comment). */
export function chooseVocabulary(counter: VocabularyCounter, defaultPageBuckets: number, pageBucketsGiven: boolean): LearnedVocabulary {
  const defaults = [...DEFAULT_EVENT_TYPES];
  const defaultOther = counter.otherShare(defaults);
  if (defaultOther <= vocabularyDefaults.keepDefaultUpTo) return { eventTypes: defaults, learned: false, otherShare: defaultOther, pageBuckets: defaultPageBuckets };
  const pageBuckets = pageBucketsGiven ? defaultPageBuckets : counter.pages === 0 ? 0 : Math.min(vocabularyDefaults.maxPageBuckets, Math.max(1, counter.categories.size));
  // "other" is the reserved name of the column of unknown types: a type of that name lands there
  const ranked = [...counter.types].filter(([t]) => t !== 'other').sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const max = Math.min(vocabularyDefaults.maxTypes, IMAGE_SPEC_LIMITS.maxEventTypes);
  const eventTypes: string[] = [];
  let covered = 0;
  for (const [t, n] of ranked) {
    if (eventTypes.length >= max || covered / Math.max(1, counter.events) >= vocabularyDefaults.coverage) break;
    eventTypes.push(t);
    covered += n;
  }
  if (eventTypes.length === 0) eventTypes.push(...defaults);
  return { eventTypes, learned: true, otherShare: counter.otherShare(eventTypes), pageBuckets };
}
