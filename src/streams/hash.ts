// A stable string hash for page buckets and event-id fingerprints. It must give the same
// value in training and serving, on every machine and Node version (and in any other language
// that reads a bundle), so it is the standard 32-bit FNV-1a over the string's UTF-8 bytes,
// written out here instead of relying on any engine-internal hash.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of the UTF-8 encoding of `s` (lone surrogates encode as U+FFFD, like TextEncoder). */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  // byte steps are written out: a nested helper would be allocated on every call (hot path)
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}

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
