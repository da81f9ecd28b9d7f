// A stable string hash for page buckets and event-id fingerprints. It must give the same
// value in training and serving, on every machine and Node version, so it is written out
// here (32-bit FNV-1a over UTF-16 code units) instead of relying on any engine-internal hash.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of the string's UTF-16 code units (each unit hashed as two bytes, low first). */
export function fnv1a32(s: string, seed: number = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h ^= c & 0xff;
    h = Math.imul(h, FNV_PRIME);
    h ^= c >>> 8;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Page → bucket index in [0, buckets). */
export function pageBucket(page: string, buckets: number): number {
  return fnv1a32(page) % buckets;
}
