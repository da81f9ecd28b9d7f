import { describe, expect, it } from 'vitest';
import { buildReadoutRow, imageFeatureNames } from '../../../src/model/readout-row.ts';
import { defaultImageSpec, imageColumns } from '../../../src/journey/image-spec.ts';

describe('buildReadoutRow', () => {
  it('builds features in the readout order: embedding values, rates, and image column means', () => {
    const image = Float32Array.from([0, 1, 0.5, 0.5, 1, 0]); // 2 rows × 3 columns
    const row = buildReadoutRow(['knnChurnRate', 'emb1', 'img:b', 'clusterChurnRate', 'img:a', 'quietMinutes'], ['a', 'b', 'c'], {
      embedding: [10, 20],
      clusterChurnRate: 0.3,
      knnChurnRate: 0.7,
      image,
      rows: 2,
      cols: 3,
      timing: { sessionStart: 0, windowEnd: 90 * 60_000, asOf: 99 * 60_000 },
    });
    expect(row).toEqual([0.7, 20, 1, 0.3, 0.25, Math.log(10)]);
    expect(buildReadoutRow(['ageMinutes'], ['a', 'b', 'c'], { embedding: [], clusterChurnRate: 0, knnChurnRate: 0, image, rows: 2, cols: 3, timing: { sessionStart: 0, windowEnd: 99 * 60_000, asOf: 99 * 60_000 } })).toEqual([Math.log(100)]);
  });

  it('names one image feature per image column and refuses names it cannot compute', () => {
    expect(imageFeatureNames(defaultImageSpec)).toEqual(imageColumns(defaultImageSpec).map((c) => `img:${c}`));
    const x = { embedding: [1], clusterChurnRate: 0, knnChurnRate: 0, image: new Float32Array(1), rows: 1, cols: 1, timing: { sessionStart: 0, windowEnd: 0, asOf: 0 } };
    expect(() => buildReadoutRow(['img:nope'], ['a'], x)).toThrow(/img:nope names no image column/);
    expect(() => buildReadoutRow(['mystery'], ['a'], x)).toThrow(/unknown readout feature mystery/);
  });
});
