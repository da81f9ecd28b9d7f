import { describe, expect, it } from 'vitest';
import { pageBucket, pageCategory } from '../../../src/journey/page-category.ts';
import { fnv1a32 } from '../../../src/util/hash.ts';

describe('page buckets', () => {
  it('buckets pages by their first path segment, so ids do not scatter one kind of page', () => {
    expect(pageCategory('/product/123?ref=mail')).toBe('product');
    expect(pageCategory('https://shop.example/Cart#top')).toBe('cart');
    expect(pageCategory('/')).toBe('');
    expect(pageBucket('/product/1', 8)).toBe(pageBucket('/product/99999', 8));
    expect(pageBucket('/product/1', 8)).toBe(fnv1a32('product') % 8);
  });
});
