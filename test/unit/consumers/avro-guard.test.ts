import { describe, expect, it } from 'vitest';
import { checkAvroBody } from '../../../src/consumers/avro-guard.ts';
import { parseIngestSchema } from '../../../src/consumers/decode.ts';

const schema = parseIngestSchema({
  type: 'record',
  name: 'Node',
  fields: [
    { name: 'label', type: 'string' },
    { name: 'kind', type: { type: 'enum', name: 'K', symbols: ['a', 'b'] } },
    { name: 'digest', type: { type: 'fixed', name: 'D', size: 4 } },
    { name: 'flags', type: { type: 'array', items: 'null' } },
    { name: 'weights', type: { type: 'array', items: 'double' } },
    { name: 'ratio', type: 'float' },
    { name: 'big', type: 'long' },
    { name: 'children', type: { type: 'array', items: 'Node' } },
    { name: 'next', type: ['null', 'Node'], default: null },
  ],
});

const leaf = { label: 'x', kind: 'b', digest: Buffer.from('abcd'), flags: [null, null], weights: [0.5], ratio: 1.5, big: -7, children: [], next: null };
const tree = { ...leaf, label: 'root', children: [leaf, { ...leaf, next: leaf }], next: { ...leaf, children: [leaf] } };

describe('Avro pre-scan', () => {
  it('accepts every well-formed value, recursive types included', () => {
    for (const v of [leaf, tree]) expect(checkAvroBody(schema, schema.toBuffer(v))).toBeUndefined();
  });

  it('reports each kind of malformed body', () => {
    const ok = schema.toBuffer(leaf);
    // label "x" = [len 2 (zigzag 1), 'x'], then the enum index.
    const badEnum = Buffer.from(ok);
    badEnum[2] = 4; // zigzag 2: index 2 of 2 symbols
    expect(checkAvroBody(schema, badEnum)).toMatch(/^enum index 2 out of range/);
    const negativeLength = Buffer.from(ok);
    negativeLength[0] = 1; // zigzag -1
    expect(checkAvroBody(schema, negativeLength)).toMatch(/^negative string length -1/);
    expect(checkAvroBody(schema, ok.subarray(0, 5))).toMatch(/needs 4 bytes at offset 3, only 2 left/);
    expect(checkAvroBody(schema, Buffer.from([0x02, 0x78, 0x02, 0x61, 0x62, 0x63, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toMatch(
      /longer than 10 bytes/,
    );
  });

  it('caps arrays of zero-size items, which have no byte bound', () => {
    // label, kind, digest, then flags: one block claiming 10^6 nulls.
    const head = Buffer.from([0x02, 0x78, 0x02, 0x61, 0x62, 0x63, 0x64]);
    const count = Buffer.from([0x80, 0x89, 0x7a]); // zigzag varint of 1_000_000
    expect(checkAvroBody(schema, Buffer.concat([head, count]))).toBe('array holds more than 100000 empty items');
  });

  it('rejects a union branch that does not exist', () => {
    const ok = schema.toBuffer(leaf);
    const badBranch = Buffer.from(ok);
    badBranch[badBranch.length - 1] = 6; // zigzag 3: the 'next' union has 2 branches
    expect(checkAvroBody(schema, badBranch)).toMatch(/^union branch 3 out of range \(2 branches\)/);
  });
});
