// A bounded pre-scan of an Avro body against its writer schema. avsc trusts block counts: a
// hostile or corrupt record that claims 2^50 map entries keeps its decoder looping long after
// the buffer ends, which would stall the whole partition. This walk checks, without building
// values, that every length and count fits in the bytes that are left.
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

const Kind = {
  Null: 0,
  Boolean: 1,
  Varint: 2,
  Float: 3,
  Double: 4,
  Bytes: 5,
  Fixed: 6,
  Enum: 7,
  Union: 8,
  Record: 9,
  Array: 10,
  Map: 11,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * The writer schema compiled once into plain nodes of one shape: walking avsc's own type
 * objects (a dozen classes, getters) is several times slower than decoding itself.
 */
interface Plan {
  kind: Kind;
  /** Fixed size, enum symbol count, union branch count. */
  n: number;
  /** Record fields, union branches, or [items] for arrays and maps. */
  children: Plan[];
  /** Smallest encoding of one array item or map entry (key included), in bytes. */
  itemMin: number;
  name: string;
}

const MAP_KEY: Plan = { kind: Kind.Bytes, n: 0, children: [], itemMin: 0, name: 'map key' };

const plans = new WeakMap<object, Plan>();

function planFor(t: AvscType, seen = new Map<AvscType, Plan>()): Plan {
  const cached = plans.get(t) ?? seen.get(t);
  if (cached !== undefined) return cached;
  const plan: Plan = { kind: Kind.Null, n: 0, children: [], itemMin: 0, name: t.typeName };
  // Registered before the children: recursive types refer back to their own plan.
  seen.set(t, plan);
  switch (t.typeName) {
    case 'null':
      break;
    case 'boolean':
      plan.kind = Kind.Boolean;
      break;
    case 'int':
    case 'long':
    case 'abstract:long':
      plan.kind = Kind.Varint;
      break;
    case 'float':
      plan.kind = Kind.Float;
      break;
    case 'double':
      plan.kind = Kind.Double;
      break;
    case 'bytes':
    case 'string':
      plan.kind = Kind.Bytes;
      break;
    case 'fixed':
      plan.kind = Kind.Fixed;
      plan.n = t.size ?? 0;
      break;
    case 'enum':
      plan.kind = Kind.Enum;
      plan.n = t.symbols?.length ?? 0;
      break;
    case 'union:unwrapped':
    case 'union:wrapped':
      plan.kind = Kind.Union;
      plan.children = (t.types ?? []).map((b) => planFor(b, seen));
      plan.n = plan.children.length;
      break;
    case 'record':
    case 'error':
      plan.kind = Kind.Record;
      plan.children = (t.fields ?? []).map((f) => planFor(f.type, seen));
      break;
    case 'array':
    case 'map': {
      const isMap = t.typeName === 'map';
      plan.kind = isMap ? Kind.Map : Kind.Array;
      plan.children = [planFor((isMap ? t.valuesType : t.itemsType)!, seen)];
      break;
    }
    default:
      if (t.underlyingType === undefined) throw new Malformed(`unsupported Avro type ${t.typeName}`);
      return planFor(t.underlyingType, seen);
  }
  return plan;
}

/** Smallest possible encoding of a value, in bytes. */
function minSize(p: Plan, visiting = new Set<Plan>()): number {
  // A recursive type refers back to itself through a union, which costs a byte anyway.
  if (visiting.has(p)) return 0;
  visiting.add(p);
  let n: number;
  switch (p.kind) {
    case Kind.Null:
      n = 0;
      break;
    case Kind.Float:
      n = 4;
      break;
    case Kind.Double:
      n = 8;
      break;
    case Kind.Fixed:
      n = p.n;
      break;
    case Kind.Record:
      n = p.children.reduce((sum, c) => sum + minSize(c, visiting), 0);
      break;
    default:
      n = 1;
  }
  visiting.delete(p);
  return n;
}

function compile(writer: AvscType): Plan {
  let plan = plans.get(writer);
  if (plan === undefined) {
    const seen = new Map<AvscType, Plan>();
    plan = planFor(writer, seen);
    for (const p of seen.values()) {
      // Map entries carry a key string, so each costs at least one byte.
      if (p.kind === Kind.Array) p.itemMin = minSize(p.children[0]!);
      else if (p.kind === Kind.Map) p.itemMin = minSize(p.children[0]!) + 1;
    }
    plans.set(writer, plan);
  }
  return plan;
}

function walk(p: Plan, c: Cursor, budget: { zeroSizeItems: number }): void {
  switch (p.kind) {
    case Kind.Null:
      return;
    case Kind.Boolean:
      c.skip(1, 'boolean');
      return;
    case Kind.Varint:
      c.varint(p.name);
      return;
    case Kind.Float:
      c.skip(4, 'float');
      return;
    case Kind.Double:
      c.skip(8, 'double');
      return;
    case Kind.Bytes: {
      const len = c.varint(`${p.name} length`);
      if (len < 0) throw new Malformed(`negative ${p.name} length ${len} at offset ${c.pos}`);
      c.skip(len, p.name);
      return;
    }
    case Kind.Fixed:
      c.skip(p.n, 'fixed');
      return;
    case Kind.Enum: {
      const i = c.varint('enum index');
      if (i < 0 || i >= p.n) throw new Malformed(`enum index ${i} out of range at offset ${c.pos}`);
      return;
    }
    case Kind.Union: {
      const i = c.varint('union branch');
      const branch = p.children[i];
      if (branch === undefined) throw new Malformed(`union branch ${i} out of range (${p.n} branches) at offset ${c.pos}`);
      walk(branch, c, budget);
      return;
    }
    case Kind.Record:
      for (let i = 0; i < p.children.length; i++) walk(p.children[i]!, c, budget);
      return;
    case Kind.Array:
    case Kind.Map: {
      const item = p.children[0]!;
      for (;;) {
        let n = c.varint(`${p.name} block count`);
        if (n === 0) return;
        if (n < 0) {
          n = -n;
          const bytes = c.varint(`${p.name} block size`);
          if (bytes < 0 || bytes > c.left) throw new Malformed(`${p.name} block size ${bytes} at offset ${c.pos} exceeds the ${c.left} bytes left`);
        }
        if (p.itemMin > 0 && n * p.itemMin > c.left) {
          throw new Malformed(`${p.name} block of ${n} items at offset ${c.pos} cannot fit in the ${c.left} bytes left`);
        }
        if (p.itemMin === 0 && (budget.zeroSizeItems -= n) < 0) {
          throw new Malformed(`${p.name} holds more than ${MAX_ZERO_SIZE_ITEMS} empty items`);
        }
        for (let i = 0; i < n; i++) {
          if (p.kind === Kind.Map) walk(MAP_KEY, c, budget);
          walk(item, c, budget);
        }
      }
    }
  }
}

/**
 * Checks that `buf` from `start` is exactly one value of `writer`, with every count and length
 * within the buffer. Returns a description of the first problem, or undefined when it is sound.
 */
export function checkAvroBody(writer: Type, buf: Buffer, start = 0): string | undefined {
  const c = new Cursor(buf, start);
  try {
    walk(compile(writer as unknown as AvscType), c, { zeroSizeItems: MAX_ZERO_SIZE_ITEMS });
  } catch (err) {
    if (err instanceof Malformed) return err.message;
    if (err instanceof RangeError) return `nesting too deep (${err.message})`;
    throw err;
  }
  if (c.pos < buf.length) return `${buf.length - c.pos} trailing bytes after the record`;
  return undefined;
}
