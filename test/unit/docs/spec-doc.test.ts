// docs/journey-image.md's complete spec.json is the code's defaults, and what it says of a partial one holds.
import { describe, expect, it } from 'vitest';
import { parsePartialDataSpec } from '../../../src/history/data-spec.ts';
import { defaultImageSpec, defaultSessionizationSpec, parseDataSpec } from '../../../src/journey/image-spec.ts';
import { codeBlocks } from '../../helpers/docs.ts';

describe('docs/journey-image.md: spec.json', () => {
  it('the complete example is valid and every value in it is the default', () => {
    const example = codeBlocks('docs/journey-image.md', 'json').find((b) => b.includes('"image"'));
    expect(parseDataSpec(example!, 'docs/journey-image.md')).toEqual({ image: defaultImageSpec, sessionization: defaultSessionizationSpec });
  });

  it('the partial examples take the defaults for the rest', () => {
    expect(parsePartialDataSpec('{"image": {"rows": 64}}', 'spec.json').spec).toEqual({ image: { ...defaultImageSpec, rows: 64 }, sessionization: defaultSessionizationSpec });
    expect(parsePartialDataSpec('{"sessionization": {"gapMs": 900000}}', 'spec.json').spec).toEqual({ image: defaultImageSpec, sessionization: { ...defaultSessionizationSpec, gapMs: 900_000 } });
  });
});
