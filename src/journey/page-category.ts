// Page → image column: pages are bucketed by their category (first path segment) with the one
// string hash, so training and serving put a page in the same column on every machine.
import { fnv1a32 } from '../util/hash.ts';

/**
 * The page's category: its first path segment ("/product/123?x=1" → "product", "/" → ""), so
 * all product pages share a column instead of landing in random ones by their ids.
 */
export function pageCategory(page: string): string {
  let start = 0;
  const scheme = page.indexOf('://');
  if (scheme >= 0) {
    const slash = page.indexOf('/', scheme + 3);
    start = slash < 0 ? page.length : slash;
  }
  while (start < page.length && page.charCodeAt(start) === 47 /* / */) start++;
  let end = start;
  while (end < page.length) {
    const c = page.charCodeAt(end);
    if (c === 47 || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return page.slice(start, end).toLowerCase();
}

/** Page → the bucket of its category (see pageCategory), in [0, buckets). */
export function pageBucket(page: string, buckets: number): number {
  return fnv1a32(pageCategory(page)) % buckets;
}
