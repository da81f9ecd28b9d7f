// A bounded pre-scan of an Avro body against its writer schema. avsc trusts block counts: a
// hostile or corrupt record that claims 2^50 map entries keeps its decoder looping long after
// the buffer ends, which would stall the whole partition. This walk checks, without
// allocating, that every length and count fits in the bytes that are left.
import { type Type } from 'avsc';

interface AvscType {
  typeName: string;
  fields?: { type: AvscType }[];
  types?: AvscType[];
  itemsType?: AvscType;
  valuesType?: AvscType;
  symbols?: string[];
  size?: number;
  underlyingType?: AvscType;
}

/** Items whose encoding can be empty (null, empty records) have no byte bound; cap them. */
const MAX_ZERO_SIZE_ITEMS = 100_000;

const MAP_KEY: AvscType = { typeName: 'string' };

class Malformed extends Error {}

class Cursor {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }

  get left(): number {
    return this.buf.length - this.pos;
  }

  skip(n: number, what: string): void {
    if (n > this.left) throw new Malformed(`${what} needs ${n} bytes at offset ${this.pos}, only ${this.left} left`);
    this.pos += n;
  }

  /** Zigzag varint (int or long), as a float: precision does not matter for bounds. */
  varint(what: string): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Malformed(`${what} is cut off at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      scale *= 128;
    }
    throw new Malformed(`${what} at offset ${this.pos} is longer than 10 bytes`);
  }
}

const minSizes = new WeakMap<AvscType, number>();

/** Smallest possible encoding of a value of this type, in bytes. */
function minSize(t: AvscType): number {
  const cached = minSizes.get(t);
  if (cached !== undefined) return cached;
  minSizes.set(t, 0); // a recursive type refers back to itself through a union, which costs a byte anyway
  let n: number;
  switch (t.typeName) {
    case 'null':
      n = 0;
      break;
    case 'float':
      n = 4;
      break;
    case 'double':
      n = 8;
      break;
    case 'fixed':
      n = t.size ?? 0;
      break;
    case 'record':
    case 'error':
      n = (t.fields ?? []).reduce((sum, f) => sum + minSize(f.type), 0);
      break;
    default:
      n = t.underlyingType !== undefined && t.typeName.startsWith('logical') ? minSize(t.underlyingType) : 1;
  }
  minSizes.set(t, n);
  return n;
}

function walk(t: AvscType, c: Cursor, budget: { zeroSizeItems: number }): void {
  switch (t.typeName) {
    case 'null':
      return;
    case 'boolean':
      c.skip(1, 'boolean');
      return;
    case 'int':
    case 'long':
    case 'abstract:long':
      c.varint(t.typeName);
      return;
    case 'float':
      c.skip(4, 'float');
      return;
    case 'double':
      c.skip(8, 'double');
      return;
    case 'bytes':
    case 'string': {
      const len = c.varint(`${t.typeName} length`);
      if (len < 0) throw new Malformed(`negative ${t.typeName} length ${len} at offset ${c.pos}`);
      c.skip(len, t.typeName);
      return;
    }
    case 'fixed':
      c.skip(t.size ?? 0, 'fixed');
      return;
    case 'enum': {
      const i = c.varint('enum index');
      if (i < 0 || i >= (t.symbols?.length ?? 0)) throw new Malformed(`enum index ${i} out of range at offset ${c.pos}`);
      return;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = t.types ?? [];
      const i = c.varint('union branch');
      const branch = branches[i];
      if (branch === undefined) throw new Malformed(`union branch ${i} out of range (${branches.length} branches) at offset ${c.pos}`);
      walk(branch, c, budget);
      return;
    }
    case 'record':
    case 'error':
      for (const f of t.fields ?? []) walk(f.type, c, budget);
      return;
    case 'array':
    case 'map': {
      const item = (t.typeName === 'array' ? t.itemsType : t.valuesType)!;
      // Map entries carry a key string, so each costs at least one byte.
      const itemMin = minSize(item) + (t.typeName === 'map' ? 1 : 0);
      for (;;) {
        let n = c.varint(`${t.typeName} block count`);
        if (n === 0) return;
        if (n < 0) {
          n = -n;
          const bytes = c.varint(`${t.typeName} block size`);
          if (bytes < 0 || bytes > c.left) throw new Malformed(`${t.typeName} block size ${bytes} at offset ${c.pos} exceeds the ${c.left} bytes left`);
        }
        if (itemMin > 0 && n * itemMin > c.left) {
          throw new Malformed(`${t.typeName} block of ${n} items at offset ${c.pos} cannot fit in the ${c.left} bytes left`);
        }
        if (itemMin === 0 && (budget.zeroSizeItems -= n) < 0) {
          throw new Malformed(`${t.typeName} holds more than ${MAX_ZERO_SIZE_ITEMS} empty items`);
        }
        for (let i = 0; i < n; i++) {
          if (t.typeName === 'map') walk(MAP_KEY, c, budget);
          walk(item, c, budget);
        }
      }
    }
    default:
      if (t.underlyingType !== undefined) return walk(t.underlyingType, c, budget);
      throw new Malformed(`unsupported Avro type ${t.typeName}`);
  }
}

/**
 * Checks that `buf` from `start` is exactly one value of `writer`, with every count and length
 * within the buffer. Returns a description of the first problem, or undefined when it is sound.
 */
export function checkAvroBody(writer: Type, buf: Buffer, start = 0): string | undefined {
  const c = new Cursor(buf, start);
  try {
    walk(writer as unknown as AvscType, c, { zeroSizeItems: MAX_ZERO_SIZE_ITEMS });
  } catch (err) {
    if (err instanceof Malformed) return err.message;
    if (err instanceof RangeError) return `nesting too deep (${err.message})`;
    throw err;
  }
  if (c.pos < buf.length) return `${buf.length - c.pos} trailing bytes after the record`;
  return undefined;
}
