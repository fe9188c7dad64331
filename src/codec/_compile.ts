/**
 * Compiles a message schema into specialised encode, decode and view code.
 *
 * Generated code is straight-line DataView calls at constant offsets: the same
 * code a person would write by hand for one type, which keeps V8's call sites
 * monomorphic and the codec next to the hand-written floor. Field names are
 * checked to be plain identifiers before they reach the generator.
 *
 * @module
 */
import { arenaBuffer, arenaView, copyBytes, copyIn, reserve } from "./_arena.ts";
import { CodecError } from "./codec_error.ts";
import { type Field, type FieldKind, isVariable } from "./field.ts";
import {
  checkHeader,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_MAGIC,
  HEADER_OFFSET,
  HEADER_SIZE,
  requireBytes,
  WIRE_VERSION,
} from "./wire.ts";

/** A field with its place in the frame body. */
export interface LaidOutField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly size: number;
  /** Offset in the fixed block, or the index among variable fields. */
  readonly offset: number;
}

/** Where every field sits. */
export interface Layout {
  /** Every field, in declaration order: the key order of decoded objects. */
  readonly all: readonly LaidOutField[];
  readonly fixed: readonly LaidOutField[];
  readonly variable: readonly LaidOutField[];
  readonly fixedSize: number;
}

/** Encodes a message at `p`, returns the frame's end. */
export type EncodeFn = (m: unknown, u8: Uint8Array, dv: DataView, p: number) => number;
/** Frame size of a message. */
export type SizeFn = (m: unknown) => number;
/** Checks the frame at `p` and decodes (or views) it; `strict`: nothing may follow it. */
export type ReadFn = (u8: Uint8Array, dv: DataView, p: number, strict: boolean) => unknown;
/** Decodes the body of a checked frame into a plain object. */
export type DecodeBodyFn = (
  u8: Uint8Array,
  dv: DataView,
  p: number,
  end: number,
  fixedLength: number,
) => unknown;
/** Builds a zero-copy view over a checked frame. */
export type ViewBodyFn = (
  u8: Uint8Array,
  dv: DataView,
  p: number,
  end: number,
  fixedLength: number,
) => unknown;

/** The compiled code of one message type. */
export interface Compiled {
  readonly encode: EncodeFn;
  readonly size: SizeFn;
  readonly decode: ReadFn;
  readonly view: ReadFn;
  readonly decodeBody: DecodeBodyFn;
  readonly viewBody: ViewBodyFn;
}

/** Lays the fields out: fixed ones in declaration order, variable ones after. */
export function layout(fields: Readonly<Record<string, Field>>): Layout {
  const all: LaidOutField[] = [];
  const fixed: LaidOutField[] = [];
  const variable: LaidOutField[] = [];
  let offset = 0;
  for (const [name, f] of Object.entries(fields)) {
    if (isVariable(f.kind)) {
      const laid = { name, kind: f.kind, size: 0, offset: variable.length };
      variable.push(laid);
      all.push(laid);
    } else {
      const laid = { name, kind: f.kind, size: f.size, offset };
      fixed.push(laid);
      all.push(laid);
      offset += f.size;
    }
  }
  return { all, fixed, variable, fixedSize: offset };
}

// Integer checks test the type first: the bit operators would throw a
// TypeError for a bigint or a Symbol, and call an object's valueOf.
const LIMITS: Partial<Record<FieldKind, string>> = {
  u8: 'typeof v === "number" && (v & 0xff) === v',
  u16: 'typeof v === "number" && (v & 0xffff) === v',
  u32: 'typeof v === "number" && (v >>> 0) === v',
  i8: 'typeof v === "number" && ((v << 24) >> 24) === v',
  i16: 'typeof v === "number" && ((v << 16) >> 16) === v',
  i32: 'typeof v === "number" && (v | 0) === v',
  // asUintN/asIntN compile to machine ops; two bigint comparisons cost ~5 ns more.
  u64: 'typeof v === "bigint" && BigInt.asUintN(64, v) === v',
  i64: 'typeof v === "bigint" && BigInt.asIntN(64, v) === v',
  u256: 'typeof v === "bigint" && v >= 0n && v < (1n << 256n)',
  f32: 'typeof v === "number"',
  f64: 'typeof v === "number"',
  bool: 'typeof v === "boolean"',
};

const DV_TYPE: Partial<Record<FieldKind, string>> = {
  u16: "Uint16",
  u32: "Uint32",
  u64: "BigUint64",
  i16: "Int16",
  i32: "Int32",
  i64: "BigInt64",
  f32: "Float32",
  f64: "Float64",
};

function zeroOf(kind: FieldKind, size: number): string {
  switch (kind) {
    case "u64":
    case "i64":
    case "u256":
      return "0n";
    case "bool":
      return "false";
    case "bytes":
      return `new Uint8Array(${size})`;
    case "string":
      return '""';
    case "varbytes":
      return "new Uint8Array(0)";
    default:
      return "0";
  }
}

/** Source of an expression reading fixed field `f` at byte `at` (an expression). */
function readExpr(f: LaidOutField, at: string, u8: string, dv: string): string {
  switch (f.kind) {
    case "u8":
      return `${u8}[${at}]`;
    case "i8":
      return `((${u8}[${at}] << 24) >> 24)`;
    case "bool":
      return `h.bool(${u8}[${at}], ${at}, ${JSON.stringify(f.name)})`;
    case "u256":
      return `h.readU256(${dv}, ${at})`;
    case "bytes":
      // `new Uint8Array(buffer, …)` skips subarray's species lookup: ~1.5× cheaper.
      return `new Uint8Array(${u8}.buffer, ${u8}.byteOffset + ${at}, ${f.size})`;
    default:
      return `${dv}.get${DV_TYPE[f.kind]}(${at}, true)`;
  }
}

/** The first four header bytes (magic, version, type id) read as a little-endian u32. */
function signatureOf(typeId: number): number {
  return (FRAME_MAGIC | (WIRE_VERSION << 8) | (typeId << 16)) >>> 0;
}

/** Largest byte field {@linkcode copyFixedBytes} copies with unrolled code. */
const UNROLL_COPY = 64;

/**
 * Source copying the `size` bytes of `v` to `u8` at `at`. Short fields are
 * read byte by byte and written 4 bytes a step: about 10 % cheaper than
 * `set` for the 20- and 32-byte fields of an address or a U256 (a `set` is a
 * builtin call of its own). Every byte is read before any is written, so an
 * overlapping source copies as `set` would.
 */
function copyFixedBytes(size: number, at: string): string {
  if (size > UNROLL_COPY) return `u8.set(v, ${at});`;
  const out: string[] = [];
  for (let k = 0; k < size; k++) out.push(`const x${k} = v[${k}];`);
  let k = 0;
  for (; k + 4 <= size; k += 4) {
    out.push(
      `dv.setUint32(${at} + ${k}, x${k} | (x${k + 1} << 8) | (x${k + 2} << 16) | (x${
        k + 3
      } << 24), true);`,
    );
  }
  for (; k < size; k++) out.push(`u8[${at} + ${k}] = x${k};`);
  return `{\n${out.join("\n")}\n}`;
}

function encodeSource(l: Layout, typeId: number): string {
  const lines: string[] = [];
  lines.push('if (typeof m !== "object" || m === null) h.notMessage(m);');
  lines.push(`const b = p + ${HEADER_SIZE};`);
  lines.push(`if (u8.length - b < ${l.fixedSize}) h.small(p, ${HEADER_SIZE + l.fixedSize}, u8);`);
  lines.push("let v;");
  for (const f of l.fixed) {
    const name = JSON.stringify(f.name);
    const at = `b + ${f.offset}`;
    lines.push(`v = m.${f.name};`);
    if (f.kind === "bytes") {
      lines.push(
        `if (!(v instanceof Uint8Array) || v.length !== ${f.size}) h.bad(${name}, v, "a Uint8Array of ${f.size} bytes");`,
      );
      lines.push(copyFixedBytes(f.size, at));
      continue;
    }
    lines.push(`if (!(${LIMITS[f.kind]})) h.bad(${name}, v, "${f.kind}");`);
    switch (f.kind) {
      case "u8":
      case "i8":
        lines.push(`u8[${at}] = v;`);
        break;
      case "bool":
        lines.push(`u8[${at}] = v ? 1 : 0;`);
        break;
      case "u256":
        lines.push(`h.writeU256(dv, ${at}, v);`);
        break;
      default:
        lines.push(`dv.set${DV_TYPE[f.kind]}(${at}, v, true);`);
    }
  }
  lines.push(`let e = b + ${l.fixedSize};`);
  for (const f of l.variable) {
    const name = JSON.stringify(f.name);
    lines.push(`v = m.${f.name};`);
    lines.push(`if (u8.length - e < 4) h.small(p, e + 4 - p, u8);`);
    if (f.kind === "string") {
      lines.push(`if (typeof v !== "string") h.bad(${name}, v, "a string");`);
      lines.push(`e = h.writeString(u8, dv, e, v, p);`);
    } else {
      lines.push(`if (!(v instanceof Uint8Array)) h.bad(${name}, v, "a Uint8Array");`);
      lines.push(`if (u8.length - e - 4 < v.length) h.small(p, e + 4 + v.length - p, u8);`);
      // An empty array is not copied: `set` would throw a TypeError for a detached one.
      lines.push(`if (v.length > 0) u8.set(v, e + 4); else h.notDetached(v, ${name});`);
      lines.push(`dv.setUint32(e, v.length, true); e += 4 + v.length;`);
    }
  }
  // Magic, version and type id as one u32; flags (0) and the fixed length as another.
  lines.push(`dv.setUint32(p, ${signatureOf(typeId)}, true);`);
  lines.push(`dv.setUint32(p + ${HEADER_OFFSET.flags}, ${(l.fixedSize << 16) >>> 0}, true);`);
  lines.push(`dv.setUint32(p + ${HEADER_OFFSET.bodyLength}, e - b, true);`);
  lines.push("return e;");
  return `function encode(m, u8, dv, p) {\n${lines.join("\n")}\n}`;
}

function sizeSource(l: Layout): string {
  const parts = [`${HEADER_SIZE + l.fixedSize + 4 * l.variable.length}`];
  for (const f of l.variable) {
    parts.push(
      f.kind === "string"
        ? `h.utf8Length(h.str(m.${f.name}, ${JSON.stringify(f.name)}))`
        : `h.blob(m.${f.name}, ${JSON.stringify(f.name)}).length`,
    );
  }
  return `function size(m) {
if (typeof m !== "object" || m === null) h.notMessage(m);
return ${parts.join(" + ")};
}`;
}

/** Source that walks the variable section into `var0..varN` [start, end) pairs. */
function walkSource(l: Layout): string {
  const lines = ["let e = b + f;"];
  l.variable.forEach((_, i) => {
    lines.push(`let s${i} = -1, n${i} = 0;`);
    lines.push(
      `if (e < end) { n${i} = h.entry(dv, e, end); s${i} = e + 4; e += 4 + n${i}; }`,
    );
  });
  lines.push("while (e < end) e += 4 + h.entry(dv, e, end);");
  return lines.join("\n");
}

function varExpr(f: LaidOutField, u8: string, start: string, len: string, copy: boolean): string {
  const name = JSON.stringify(f.name);
  if (f.kind === "string") return `(${start} < 0 ? "" : h.utf8(${u8}, ${start}, ${len}, ${name}))`;
  const read = copy
    ? `h.copy(${u8}, ${start}, ${start} + ${len})`
    : `${u8}.subarray(${start}, ${start} + ${len})`;
  return `(${start} < 0 ? new Uint8Array(0) : ${read})`;
}

/** Largest fixed block `decode` copies with `copyIn` (the arena's limit). */
const COPY_IN_LIMIT = 4096;
/** Largest fixed block `decode` copies with unrolled code. */
const UNROLL_LIMIT = 256;

function decodeSource(l: Layout): string {
  const lines = [`const b = p + ${HEADER_SIZE};`, walkSource(l)];
  const hasBytes = l.fixed.some((f) => f.kind === "bytes");
  // One copy of the fixed block serves every byte field: one allocation per message, not one per field.
  // Blocks up to 4 KiB are copied into the arena at `at` of buffer `cb`, without temporary arrays.
  const inArena = l.fixedSize <= COPY_IN_LIMIT;
  if (hasBytes && l.fixedSize <= UNROLL_LIMIT) {
    // The whole block, the usual case: unrolled 4-byte copies, ~2× faster than `set`.
    const copy = [`at = h.reserve(${l.fixedSize}); const ad = h.arenaView();`];
    let k = 0;
    for (; k + 4 <= l.fixedSize; k += 4) {
      copy.push(`ad.setUint32(at + ${k}, dv.getUint32(b + ${k}, true), true);`);
    }
    for (; k < l.fixedSize; k++) copy.push(`ad.setUint8(at + ${k}, u8[b + ${k}]);`);
    lines.push("let at;");
    lines.push(`if (f >= ${l.fixedSize}) {\n${copy.join("\n")}\n} else at = h.copyIn(u8, b, f);`);
    lines.push("const cb = h.arenaBuffer();");
  } else if (hasBytes && inArena) {
    lines.push(`const at = h.copyIn(u8, b, f < ${l.fixedSize} ? f : ${l.fixedSize});`);
    lines.push("const cb = h.arenaBuffer();");
  } else if (hasBytes) {
    lines.push(`const c = h.copy(u8, b, b + (f < ${l.fixedSize} ? f : ${l.fixedSize}));`);
  }
  // Keys in declaration order, so a decoded message lists its fields
  // (`Object.keys`, spread, JSON) exactly as the object its sender built.
  const props: string[] = [];
  for (const f of l.all) {
    if (isVariable(f.kind)) {
      props.push(`${f.name}: ${varExpr(f, "u8", `s${f.offset}`, `n${f.offset}`, true)}`);
      continue;
    }
    const end = f.offset + f.size;
    const read = f.kind !== "bytes"
      ? readExpr(f, `b + ${f.offset}`, "u8", "dv")
      : inArena
      ? `new Uint8Array(cb, at + ${f.offset}, ${f.size})`
      : `c.subarray(${f.offset}, ${end})`;
    props.push(`${f.name}: f >= ${end} ? ${read} : ${zeroOf(f.kind, f.size)}`);
  }
  lines.push(`return { ${props.join(",\n")} };`);
  return `function decodeBody(u8, dv, p, end, f) {\n${lines.join("\n")}\n}`;
}

function viewSource(l: Layout): string {
  const members: string[] = [];
  const slots = l.variable.map((_, i) => `#s${i}; #n${i};`).join(" ");
  const ctor = [
    "constructor(u8, dv, b, f, end) {",
    "this.#u = u8; this.#d = dv; this.#b = b; this.#f = f; this.#e = end;",
    walkSource(l),
    ...l.variable.map((_, i) => `this.#s${i} = s${i}; this.#n${i} = n${i};`),
    "}",
  ];
  members.push(ctor.join("\n"));
  members.push("get type() { return T; }");
  for (const f of l.fixed) {
    const end = f.offset + f.size;
    const read = readExpr(f, `this.#b + ${f.offset}`, "this.#u", "this.#d");
    members.push(
      `get ${f.name}() { return this.#f >= ${end} ? ${read} : ${zeroOf(f.kind, f.size)}; }`,
    );
  }
  l.variable.forEach((f, i) => {
    members.push(
      `get ${f.name}() { return ${varExpr(f, "this.#u", `this.#s${i}`, `this.#n${i}`, false)}; }`,
    );
  });
  // The plain copy is exactly what `decode` would have returned for the frame.
  members.push(
    `toObject() { return decodeBody(this.#u, this.#d, this.#b - ${HEADER_SIZE}, this.#e, this.#f); }`,
  );
  // JSON of a view is the JSON of its plain copy (a bigint field throws, as for any plain object).
  members.push("toJSON() { return this.toObject(); }");
  return [
    `class View { #u; #d; #b; #f; #e; ${slots}`,
    members.join("\n"),
    "}",
    `function viewBody(u8, dv, p, end, f) { return new View(u8, dv, p + ${HEADER_SIZE}, f, end); }`,
  ].join("\n");
}

/**
 * The checked entry points. The fast path tests magic, version and type id
 * with one 32-bit compare; anything odd goes to `h.explain`, which finds the
 * exact problem and throws it.
 */
function entrySource(typeId: number): string {
  const signature = signatureOf(typeId);
  return `
function check(u8, dv, p, strict) {
  if ((p >>> 0) === p && u8.length - p >= ${HEADER_SIZE} && dv.getUint32(p, true) === ${signature}) {
    const body = dv.getUint32(p + ${HEADER_OFFSET.bodyLength}, true);
    if (body <= ${DEFAULT_MAX_FRAME_SIZE} && dv.getUint16(p + ${HEADER_OFFSET.fixedLength}, true) <= body) {
      const end = p + ${HEADER_SIZE} + body;
      if (end === u8.length || (!strict && end < u8.length)) return end;
    }
  }
  return h.explain(u8, dv, p, strict, T);
}
function decode(u8, dv, p, strict) {
  const end = check(u8, dv, p, strict);
  return decodeBody(u8, dv, p, end, dv.getUint16(p + ${HEADER_OFFSET.fixedLength}, true));
}
function view(u8, dv, p, strict) {
  const end = check(u8, dv, p, strict);
  return new View(u8, dv, p + ${HEADER_SIZE}, dv.getUint16(p + ${HEADER_OFFSET.fixedLength}, true), end);
}`;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const TWO_64 = 1n << 64n;
const MASK_64 = TWO_64 - 1n;

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (typeof v === "function") return "a function";
  if (v === null || typeof v !== "object") return String(v);
  return Object.prototype.toString.call(v);
}

/** Runtime helpers the generated code calls; kept small so they inline. */
const helpers = {
  /** Throws the exact reason the fast check in `check` refused the frame at `p`. */
  explain(
    u8: Uint8Array,
    dv: DataView,
    p: number,
    strict: boolean,
    type: { readonly id: number; readonly name: string },
  ): never {
    if (!Number.isInteger(p) || p < 0) {
      throw new CodecError(
        "CODEC_INVALID_VALUE",
        `offset must be a non-negative integer, got ${p}`,
      );
    }
    requireBytes(p, HEADER_SIZE, u8.length, "frame header");
    const length = checkHeader(u8, dv, p, DEFAULT_MAX_FRAME_SIZE);
    const id = dv.getUint16(p + HEADER_OFFSET.typeId, true);
    if (id !== type.id) {
      throw new CodecError(
        "CODEC_TYPE_MISMATCH",
        `frame at byte ${p} holds type id ${id}, not ${type.name} (${type.id})`,
        { offset: p + HEADER_OFFSET.typeId },
      );
    }
    requireBytes(p, length, u8.length, `${type.name} frame`);
    if (!strict) {
      throw new CodecError("CODEC_BAD_LENGTH", `frame at byte ${p} is malformed`, { offset: p });
    }
    throw new CodecError(
      "CODEC_TRAILING_BYTES",
      `${u8.length - p - length} bytes follow the ${type.name} frame that ends at byte ${
        p + length
      }`,
      { offset: p + length },
    );
  },
  bad(name: string, v: unknown, want: string): never {
    throw new CodecError(
      "CODEC_INVALID_VALUE",
      `field '${name}' must be ${want}, got ${describe(v)}`,
      {
        field: name,
      },
    );
  },
  notDetached(v: Uint8Array, name: string): void {
    if ((v.buffer as ArrayBuffer).detached === true) {
      helpers.bad(name, v, "a Uint8Array whose buffer was not transferred away");
    }
  },
  notMessage(m: unknown): never {
    throw new CodecError(
      "CODEC_INVALID_VALUE",
      `a message must be an object holding its fields, got ${describe(m)}`,
    );
  },
  small(p: number, need: number, u8: Uint8Array): never {
    throw new CodecError(
      "CODEC_BUFFER_TOO_SMALL",
      `frame at byte ${p} needs ${need} bytes; the buffer has ${u8.length - p} from there`,
      { offset: p },
    );
  },
  bool(byte: number, at: number, name: string): boolean {
    if (byte > 1) {
      throw new CodecError("CODEC_INVALID_BOOL", `bool field '${name}' holds ${byte}, not 0 or 1`, {
        offset: at,
        field: name,
      });
    }
    return byte === 1;
  },
  /** Length of the variable entry at `e`, checked to end within `end`. */
  entry(dv: DataView, e: number, end: number): number {
    if (end - e < 4) {
      throw new CodecError(
        "CODEC_TRUNCATED",
        `variable-length entry at byte ${e} has no room for its length`,
        {
          offset: e,
        },
      );
    }
    const n = dv.getUint32(e, true);
    if (n > end - e - 4) {
      throw new CodecError(
        "CODEC_BAD_LENGTH",
        `variable-length entry at byte ${e} claims ${n} bytes; the frame has ${end - e - 4} left`,
        { offset: e },
      );
    }
    return n;
  },
  utf8(u8: Uint8Array, start: number, n: number, name: string): string {
    try {
      return textDecoder.decode(u8.subarray(start, start + n));
    } catch (cause) {
      throw new CodecError(
        "CODEC_INVALID_UTF8",
        `string field '${name}' at byte ${start} is not valid UTF-8`,
        {
          offset: start,
          field: name,
          cause,
        },
      );
    }
  },
  writeString(u8: Uint8Array, dv: DataView, e: number, s: string, p: number): number {
    if (s.length === 0) {
      dv.setUint32(e, 0, true);
      return e + 4;
    }
    const r = textEncoder.encodeInto(s, u8.subarray(e + 4));
    if (r.read !== s.length) helpers.small(p, e + 4 - p + utf8Length(s), u8);
    dv.setUint32(e, r.written, true);
    return e + 4 + r.written;
  },
  readU256(dv: DataView, at: number): bigint {
    return dv.getBigUint64(at, true) |
      (dv.getBigUint64(at + 8, true) << 64n) |
      (dv.getBigUint64(at + 16, true) << 128n) |
      (dv.getBigUint64(at + 24, true) << 192n);
  },
  writeU256(dv: DataView, at: number, v: bigint): void {
    dv.setBigUint64(at, v & MASK_64, true);
    dv.setBigUint64(at + 8, (v >> 64n) & MASK_64, true);
    dv.setBigUint64(at + 16, (v >> 128n) & MASK_64, true);
    dv.setBigUint64(at + 24, v >> 192n, true);
  },
  utf8Length,
  copy: copyBytes,
  copyIn,
  reserve,
  arenaView,
  arenaBuffer,
  str(v: unknown, name: string): string {
    return typeof v === "string" ? v : helpers.bad(name, v, "a string");
  },
  blob(v: unknown, name: string): Uint8Array {
    return v instanceof Uint8Array ? v : helpers.bad(name, v, "a Uint8Array");
  },
};

/** Bytes of the UTF-8 encoding of `s` (lone surrogates count as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Compiles the code of one message type. `type` is what views report as their `type`. */
export function compile(l: Layout, typeId: number, type: unknown): Compiled {
  const source = [
    '"use strict";',
    encodeSource(l, typeId),
    sizeSource(l),
    decodeSource(l),
    viewSource(l),
    entrySource(typeId),
    "return { encode, size, decode, view, decodeBody, viewBody };",
  ].join("\n");
  return new Function("h", "T", source)(helpers, type) as Compiled;
}
