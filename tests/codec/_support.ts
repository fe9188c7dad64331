/**
 * Shared pieces of the codec tests: a seeded generator, a message type with
 * every field kind, random and boundary values per kind, and an assertion for
 * typed codec errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { seededRandom } from "../../examples/trading/seeded_random.ts";
import { CodecError, type CodecErrorCode } from "../../src/codec/codec_error.ts";
import type { Field, FieldKind, Fields } from "../../src/codec/field.ts";
import { defineMessage, field, type MessageOf } from "../../src/codec/mod.ts";

/** A deterministic generator (mulberry32) with the draws the tests need. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A random unsigned 32-bit integer. */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** A random unsigned integer of `bits` bits (a multiple of 32). */
  bits(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.u32());
    return v;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** A message type with one field of every kind, fixed and variable interleaved. */
export const AllKinds = defineMessage({
  id: 700,
  name: "AllKinds",
  topic: "test.all_kinds",
  fields: {
    u8: field.u8(),
    u16: field.u16(),
    u32: field.u32(),
    u64: field.u64(),
    text: field.string(),
    i8: field.i8(),
    i16: field.i16(),
    i32: field.i32(),
    i64: field.i64(),
    f32: field.f32(),
    f64: field.f64(),
    flag: field.bool(),
    u256: field.u256(),
    addr: field.bytes(4),
    blob: field.varBytes(),
  },
});
/** A message of {@linkcode AllKinds}. */
export type AllKinds = MessageOf<typeof AllKinds>;

/** A type whose frames are mostly variable data: two strings and a byte string. */
export const Chat = defineMessage({
  id: 701,
  name: "Chat",
  fields: {
    from: field.string(),
    seq: field.u16(),
    text: field.string(),
    attachment: field.varBytes(),
    urgent: field.bool(),
  },
});
/** A message of {@linkcode Chat}. */
export type Chat = MessageOf<typeof Chat>;

/** A type with no fields at all (an empty body). */
export const Empty = defineMessage({ id: 702, name: "Empty", fields: {} });

const F32 = new DataView(new ArrayBuffer(8));

/** Boundary values of each fixed kind (bytes and variable kinds are handled by size). */
const BOUNDARIES: Partial<Record<FieldKind, readonly unknown[]>> = {
  u8: [0, 1, 0x7f, 0x80, 0xff],
  u16: [0, 1, 0x7fff, 0x8000, 0xffff],
  u32: [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff],
  u64: [0n, 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n],
  i8: [0, -1, 1, -128, 127],
  i16: [0, -1, 1, -32768, 32767],
  i32: [0, -1, 1, -2147483648, 2147483647],
  i64: [0n, -1n, 1n, -(1n << 63n), (1n << 63n) - 1n],
  f32: [
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    3.4028234663852886e38, // largest f32
    -3.4028234663852886e38,
    1.401298464324817e-45, // smallest f32 subnormal
    1.1754943508222875e-38, // smallest f32 normal
    1.5,
  ],
  f64: [
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    -0.1,
  ],
  bool: [false, true],
  u256: [0n, 1n, (1n << 64n) - 1n, 1n << 64n, 1n << 255n, (1n << 256n) - 1n],
};

/** Strings that probe UTF-8: empty, ASCII, 2-, 3- and 4-byte sequences, a BOM, NUL. */
export const BOUNDARY_STRINGS: readonly string[] = [
  "",
  "a",
  "\0",
  "é", // 2 bytes
  "€", // 3 bytes
  "🍄", // 4 bytes (a surrogate pair in JS)
  "\uFEFF", // a BOM must survive as data
  "\uFEFFlead",
  "mÿcélium 🍄 菌糸 \u{10FFFF}",
  "x".repeat(300),
];

const CHAR_POOL = [
  "a",
  "Z",
  " ",
  "0",
  "\n",
  "\0",
  "\x7f",
  "\x80",
  "é",
  "ß",
  "ÿ",
  "\u07ff",
  "\u0800",
  "€",
  "菌",
  "\uFEFF",
  "\uFFFD",
  "\uFFFF",
  "🍄",
  "😀",
  "\u{10000}",
  "\u{10FFFF}",
];

/** A random well-formed string of up to `max` code points. */
export function randomString(r: Rng, max = 24): string {
  let s = "";
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) s += r.pick(CHAR_POOL);
  return s;
}

/** A random value of `f`; with probability `pBoundary`, one of its boundary values. */
export function randomValue(r: Rng, f: Field, pBoundary = 0.3): unknown {
  const edge = r.chance(pBoundary);
  switch (f.kind) {
    case "bytes":
      if (edge) return new Uint8Array(f.size).fill(r.pick([0, 0xff]));
      return r.bytes(f.size);
    case "varbytes":
      if (edge) return r.chance(0.5) ? new Uint8Array(0) : new Uint8Array(r.int(600)).fill(0xff);
      return r.bytes(r.int(40));
    case "string":
      return edge ? r.pick(BOUNDARY_STRINGS) : randomString(r);
  }
  if (edge) return r.pick(BOUNDARIES[f.kind] as readonly unknown[]);
  switch (f.kind) {
    case "u8":
      return r.int(0x100);
    case "u16":
      return r.int(0x10000);
    case "u32":
      return r.u32();
    case "i8":
      return r.int(0x100) - 0x80;
    case "i16":
      return r.int(0x10000) - 0x8000;
    case "i32":
      return r.u32() | 0;
    case "u64":
      return r.bits(64);
    case "i64":
      return BigInt.asIntN(64, r.bits(64));
    case "u256":
      return r.bits(256);
    case "f32":
      // Any bit pattern, NaNs and subnormals included.
      F32.setUint32(0, r.u32(), true);
      return F32.getFloat32(0, true);
    case "f64":
      F32.setUint32(0, r.u32(), true);
      F32.setUint32(4, r.u32(), true);
      return F32.getFloat64(0, true);
    case "bool":
      return r.chance(0.5);
  }
  throw new Error(`no generator for ${f.kind}`);
}

/** A random message of the type with these fields. */
export function randomMessage<F extends Fields>(
  r: Rng,
  fields: F,
  pBoundary = 0.3,
): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) m[name] = randomValue(r, f, pBoundary);
  return m;
}

/** Messages that put boundary `i` (modulo each kind's list) in every field. */
export function boundaryMessages<F extends Fields>(fields: F): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 10; i++) {
    const m: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(fields)) {
      if (f.kind === "string") m[name] = BOUNDARY_STRINGS[i % BOUNDARY_STRINGS.length];
      else if (f.kind === "varbytes") {
        m[name] = i % 2 === 0 ? new Uint8Array(0) : new Uint8Array(i * 7).fill(i);
      } else if (f.kind === "bytes") m[name] = new Uint8Array(f.size).fill(i % 2 ? 0xff : 0);
      else {
        const list = BOUNDARIES[f.kind] as readonly unknown[];
        m[name] = list[i % list.length];
      }
    }
    out.push(m);
  }
  return out;
}

/**
 * Runs `fn`, which must throw a {@linkcode CodecError} with `code` at byte
 * `offset` (and, if given, about `field`). Returns the error.
 */
export function assertCodecError(
  fn: () => unknown,
  code: CodecErrorCode,
  offset: number,
  field?: string,
): CodecError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected ${code} at ${offset}, nothing was thrown`);
  assert.ok(thrown instanceof CodecError, `expected a CodecError, got ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  assert.equal(thrown.offset, offset, `offset of: ${thrown.message}`);
  if (field !== undefined) assert.equal(thrown.field, field, thrown.message);
  return thrown;
}

/** Parses a fixture: hex byte pairs, whitespace ignored, `#` starts a comment. */
export function parseHex(text: string): Uint8Array {
  const digits = text.split("\n").map((line) => line.replace(/#.*/, "")).join("").replace(
    /\s+/g,
    "",
  );
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error("fixture is not whole hex bytes");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Writes a little-endian u32 at `at` (for hand-editing frames). */
export function setU32(bytes: Uint8Array, at: number, v: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, v, true);
}

/** Writes a little-endian u16 at `at` (for hand-editing frames). */
export function setU16(bytes: Uint8Array, at: number, v: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint16(at, v, true);
}

/** Concatenates byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
