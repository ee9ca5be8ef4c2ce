/**
 * Bounds of an Avro record, checked before avsc reads it. avsc trusts the counts and
 * lengths a record claims: a map block that claims 2^52 entries makes it loop for years
 * before it notices the bytes ran out (2^26 entries: seconds), and decoding is
 * synchronous, so one short record stops every instance that reads it. Compiled once
 * per writer schema, this walk of the record's encoding refuses, without allocating:
 *
 * - a block count the bytes left cannot hold. Each entry counts as at least one byte, also
 *   one that encodes to nothing (null, an empty record, fixed(0)) — so an array of
 *   nulls longer than the rest of its record is refused, though valid Avro. Then neither
 *   this walk nor avsc loops more often than the record has bytes (times the schema's size);
 * - a negative block count whose byte size is negative, past the end, or not where its
 *   entries end (avsc skips such a block by its size: it must land where this walk did);
 * - a string, bytes or fixed length past the end, or negative;
 * - a varint longer than 10 bytes or running past the end;
 * - a union branch or enum index out of range;
 * - values nested deeper than MAX_DEPTH (recursive schemas would overflow avsc's stack).
 *
 * The bounds hold only if avsc walks the bytes as this does: value by value, block by
 * block, in the writer schema's order (resolving into the reader's schema reads the
 * writer's encoding, and skips writer-only fields value by value too). The one place avsc
 * trusts a declared size instead is skipping a negative block; hence its size check.
 */
import avro from 'avsc';

/** Nesting of records, arrays, maps and unions; deeper records are refused. */
export const MAX_DEPTH = 128;

const FIXED_WIDTH = 1;
const VARINT = 2;
const BYTES = 3;
const ENUM = 4;
const ARRAY = 5;
const MAP = 6;
const UNION = 7;
const RECORD = 8;

const FAIL = -1;

interface Node {
  kind: number;
  /** Bytes every value takes when that is the same for all (null 0, double 8, records of such fields), else -1. */
  width: number;
  /** enum: its symbols; union: its branches. */
  size: number;
  /** record: field types; array: [items]; map: [values]; union: branches. */
  children: Node[];
  /** record: field names, for saying where a record was refused. */
  names: string[];
  /** What the refusal calls it: string, map, io.example.Thing… */
  label: string;
}

export class AvroBounds {
  private buf: Buffer = EMPTY;
  private end = 0;
  /** Entries counted as one byte each although they encode to nothing. */
  private owed = 0;
  /** Where the last varint ended. */
  private next = 0;
  private reason = '';
  private failedAt = 0;
  private failedDepth = 0;
  /** The containers being walked and the field or entry in each: where a refusal happened. */
  private readonly trail: Node[] = new Array<Node>(MAX_DEPTH + 1);
  private readonly entry = new Float64Array(MAX_DEPTH + 1);

  private constructor(private readonly root: Node) {}

  /** Throws an Error naming the type when `type` is not an avsc type. */
  static compile(type: avro.Type): AvroBounds {
    if (!avro.Type.isType(type)) throw new Error('the schema is not an Avro schema');
    const nodes = new Map<avro.Type, Node>();
    const root = compileNode(type, nodes);
    for (const n of nodes.values()) settle(n, new Set());
    return new AvroBounds(root);
  }

  /** Why `buf` (an Avro body from `start`) cannot be read with bounded work, or undefined when it can. */
  refusal(buf: Buffer, start = 0): string | undefined {
    this.buf = buf;
    this.end = buf.length;
    this.owed = 0;
    const at = this.value(this.root, start, 0);
    this.buf = EMPTY; // not kept alive by the check
    if (at !== FAIL) return undefined;
    return `${this.reason}, in ${this.where()} (byte ${this.failedAt} of ${this.end})`;
  }

  private value(n: Node, pos: number, depth: number): number {
    if (n.width >= 0)
      return n.width <= this.end - pos
        ? pos + n.width
        : this.fail(pos, depth, `the record ends inside a ${n.label} (${n.width} bytes, ${this.end - pos} left)`);
    const kind = n.kind;
    if (kind === VARINT || kind === BYTES) {
      const b = pos < this.end ? this.buf[pos]! : 0x80;
      if (b < 0x80) {
        // a one-byte varint (most numbers and lengths), without the calls
        if (kind === VARINT) return pos + 1;
        const length = (b >> 1) ^ -(b & 1);
        if (length >= 0 && length < this.end - pos) return pos + 1 + length;
      }
      return kind === VARINT ? (Number.isNaN(this.long(pos, depth)) ? FAIL : this.next) : this.bytes(n, pos, depth);
    }
    if (kind === RECORD) return this.record(n, pos, depth);
    return kind === ARRAY || kind === MAP ? this.blocks(n, pos, depth) : this.branch(n, pos, depth);
  }

  private bytes(n: Node, pos: number, depth: number): number {
    const length = this.long(pos, depth);
    if (Number.isNaN(length)) return FAIL;
    const left = this.end - this.next;
    if (length < 0 || length > left)
      return this.fail(pos, depth, `${n.label} length ${length} ${length < 0 ? 'is negative' : `runs past the end (${left} bytes left)`}`);
    return this.next + length;
  }

  private branch(n: Node, pos: number, depth: number): number {
    const index = this.long(pos, depth);
    if (Number.isNaN(index)) return FAIL;
    if (index < 0 || index >= n.size)
      return this.fail(
        pos,
        depth,
        n.kind === ENUM
          ? `enum index ${index} is outside the ${n.size} symbols of ${n.label}`
          : `union branch ${index} does not exist (the union has ${n.size})`,
      );
    if (n.kind === ENUM) return this.next;
    if (depth >= MAX_DEPTH) return this.tooDeep(pos, depth);
    this.trail[depth] = n;
    this.entry[depth] = index;
    return this.value(n.children[index]!, this.next, depth + 1);
  }

  private record(n: Node, pos: number, depth: number): number {
    if (depth >= MAX_DEPTH) return this.tooDeep(pos, depth);
    this.trail[depth] = n;
    const fields = n.children;
    for (let i = 0; i < fields.length && pos !== FAIL; i++) {
      this.entry[depth] = i;
      pos = this.value(fields[i]!, pos, depth + 1);
    }
    return pos;
  }

  /**
   * Array or map blocks: a count (negative: followed by the block's byte size), then its
   * entries; 0 ends them. A skip (avsc reading a writer-only field) jumps over a negative
   * block by its size and reads on from there, so the entries must end exactly where the
   * size says: else avsc would read a count this walk took for something else.
   */
  private blocks(n: Node, pos: number, depth: number): number {
    const item = n.children[0]!;
    for (let entry = 0; ; ) {
      const header = pos;
      let count = this.long(pos, depth);
      if (Number.isNaN(count)) return FAIL;
      pos = this.next;
      if (count === 0) return pos;
      let blockEnd = -1;
      if (count < 0) {
        count = -count;
        const size = this.long(pos, depth);
        if (Number.isNaN(size)) return FAIL;
        pos = this.next;
        if (size < 0 || size > this.end - pos) return this.fail(header, depth, `${n.label} block claims ${size} bytes, but ${this.end - pos} are left`);
        blockEnd = pos + size;
      }
      const start = pos;
      const left = this.end - pos - this.owed;
      const width = n.kind === ARRAY ? item.width : -1;
      if (count > left || count * width > left)
        return this.fail(
          header,
          depth,
          `${n.label} block claims ${count} entries${width > 1 ? ` of ${width} bytes` : ''}, but only ${Math.max(left, 0)} bytes are left`,
        );
      if (width === 0) this.owed += count;
      else if (width > 0) pos += count * width;
      else {
        if (depth >= MAX_DEPTH) return this.tooDeep(pos, depth);
        this.trail[depth] = n;
        for (const last = entry + count; entry < last; entry++) {
          this.entry[depth] = entry;
          if (n.kind === MAP && (pos = this.value(KEY, pos, depth + 1)) === FAIL) return FAIL; // a map entry: its key, then its value
          if ((pos = this.value(item, pos, depth + 1)) === FAIL) return FAIL;
        }
      }
      if (blockEnd >= 0 && pos !== blockEnd)
        return this.fail(header, depth, `${n.label} block claims ${blockEnd - start} bytes, but its ${count} entries take ${pos - start}`);
    }
  }

  private tooDeep(pos: number, depth: number): number {
    return this.fail(pos, depth, `values nest deeper than ${MAX_DEPTH} levels`);
  }

  /** A zig-zag varint of up to 10 bytes; NaN after failing. Beyond 2^53 it is approximate, which only a refusal needs. */
  private long(pos: number, depth: number): number {
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        // one byte: most lengths, counts and indexes
        this.next = pos + 1;
        return (b >> 1) ^ -(b & 1);
      }
    }
    let value = 0;
    let scale = 1;
    for (let i = pos; i < pos + 10; i++) {
      if (i >= this.end) {
        this.fail(pos, depth, 'a number runs past the end of the record');
        return NaN;
      }
      const b = this.buf[i]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.next = i + 1;
        return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
      }
      scale *= 128;
    }
    this.fail(pos, depth, 'a number is longer than 10 bytes');
    return NaN;
  }

  private fail(pos: number, depth: number, reason: string): number {
    this.reason = reason;
    this.failedAt = pos;
    this.failedDepth = depth;
    return FAIL;
  }

  /** The field path of the refusal, e.g. `field properties[2]`; only on failure, so it may allocate. */
  private where(): string {
    const parts: string[] = [];
    for (let d = 0; d < this.failedDepth; d++) {
      const n = this.trail[d]!;
      const i = this.entry[d]!;
      if (n.kind === RECORD) parts.push(`${parts.length > 0 ? '.' : ''}${n.names[i]}`);
      else if (n.kind !== UNION) parts.push(`[${i}]`);
    }
    if (parts.length === 0) return 'the top-level value';
    const shown = parts.length <= 12 ? parts : [...parts.slice(0, 6), `…(${parts.length - 12} more)…`, ...parts.slice(-6)];
    return `field ${shown.join('')}`;
  }
}

const EMPTY = Buffer.alloc(0);
const KEY: Node = { kind: BYTES, width: -1, size: 0, children: [], names: [], label: 'map key' };

const WIDTHS: Record<string, number> = { null: 0, boolean: 1, float: 4, double: 8 };

/** The parts of an avsc type the compiler reads: by name, so a type from another copy of avsc reads too. */
interface TypeView {
  typeName: string;
  name?: string;
  underlyingType?: avro.Type;
  size?: number;
  symbols?: string[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  types?: avro.Type[];
  fields?: { name: string; type: avro.Type }[];
}

/** The schema as nodes; named types already seen (recursion) are the same node. */
function compileNode(type: avro.Type, seen: Map<avro.Type, Node>): Node {
  const known = seen.get(type);
  if (known) return known;
  const t = type as unknown as TypeView;
  const typeName = t.typeName;
  if (typeName.startsWith('logical:')) return compileNode(t.underlyingType!, seen);
  const node: Node = { kind: VARINT, width: -1, size: 0, children: [], names: [], label: t.name ?? typeName };
  seen.set(type, node);
  const width = WIDTHS[typeName];
  if (width !== undefined) Object.assign(node, { kind: FIXED_WIDTH, width });
  else if (typeName === 'fixed') Object.assign(node, { kind: FIXED_WIDTH, width: t.size! });
  else if (typeName === 'int' || typeName === 'long') node.kind = VARINT;
  else if (typeName === 'string' || typeName === 'bytes') node.kind = BYTES;
  else if (typeName === 'enum') Object.assign(node, { kind: ENUM, size: t.symbols!.length });
  else if (typeName === 'array') Object.assign(node, { kind: ARRAY, children: [compileNode(t.itemsType!, seen)] });
  else if (typeName === 'map') Object.assign(node, { kind: MAP, children: [compileNode(t.valuesType!, seen)] });
  else if (typeName.startsWith('union:')) Object.assign(node, { kind: UNION, size: t.types!.length, children: t.types!.map((b) => compileNode(b, seen)) });
  else if (typeName === 'record' || typeName === 'error') {
    Object.assign(node, { kind: RECORD, width: UNSETTLED, names: t.fields!.map((f) => f.name) });
    node.children = t.fields!.map((f) => compileNode(f.type, seen));
  } else throw new Error(`Avro type "${typeName}" is not supported`);
  return node;
}

const UNSETTLED = -2;

/** A record is fixed-width when every field is; one that contains itself only through records cannot end, and is not. */
function settle(n: Node, inProgress: Set<Node>): number {
  if (n.width !== UNSETTLED) return n.width;
  if (inProgress.has(n)) return -1;
  inProgress.add(n);
  let width = 0;
  for (const c of n.children) {
    const w = settle(c, inProgress);
    width = w < 0 || width < 0 ? -1 : width + w;
  }
  inProgress.delete(n);
  return (n.width = width);
}
