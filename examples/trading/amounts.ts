/**
 * 256-bit amounts kept as 32 little-endian bytes, the way `V2Swap` carries
 * them: converted to and from `bigint` where arithmetic must be exact (money
 * booked), read as the nearest `number` where a price is all that is needed.
 *
 * @module
 */

const MASK_64 = (1n << 64n) - 1n;
const TWO_32 = 2 ** 32;

/**
 * Writes `value` (0 ≤ value < 2^256) into 32 little-endian bytes at `out`
 * (default: a new array), and returns `out`.
 */
export function u256ToBytes(value: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  if (value < 0n || value >> 256n !== 0n) throw new RangeError(`${value} does not fit in 256 bits`);
  const dv = new DataView(out.buffer, out.byteOffset, 32);
  // Amounts of real tokens fit in 128 bits: two limbs, the rest zero.
  if (value >> 128n === 0n) {
    dv.setBigUint64(0, BigInt.asUintN(64, value), true);
    dv.setBigUint64(8, value >> 64n, true);
    for (let i = 16; i < 32; i++) out[i] = 0;
    return out;
  }
  for (let i = 0; i < 4; i++) dv.setBigUint64(i * 8, (value >> BigInt(64 * i)) & MASK_64, true);
  return out;
}

/** Reads 32 little-endian bytes as an unsigned integer (exact). */
export function bytesToU256(bytes: Uint8Array): bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 32);
  let v = 0n;
  for (let i = 3; i >= 0; i--) v = (v << 64n) | dv.getBigUint64(i * 8, true);
  return v;
}

/** The 32-bit word `k` (0: least significant) of 32 little-endian bytes. */
function word(b: Uint8Array, k: number): number {
  const o = k * 4;
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) |
    ((b[o + 3] as number) << 24)) >>> 0;
}

/**
 * Reads 32 little-endian bytes as the nearest `number`: the same value as
 * `Number(bytesToU256(bytes))` (rounded to nearest, ties to even), without
 * a bigint. For prices and sizes, not for money booked.
 *
 * @example
 * ```ts
 * import { u256ToBytes, u256ToNumber } from "./amounts.ts";
 * const v = 123_456_789_012_345_678_901_234_567n;
 * if (u256ToNumber(u256ToBytes(v)) !== Number(v)) throw new Error("unreachable");
 * ```
 */
export function u256ToNumber(bytes: Uint8Array): number {
  let top = 7;
  let hi = word(bytes, 7);
  while (hi === 0 && top > 0) hi = word(bytes, --top);
  if (top === 0) return hi;
  const mid = word(bytes, top - 1);
  // Below 2^53: exact.
  if (top === 1 && hi < 0x200000) return hi * TWO_32 + mid;
  const lo = top >= 2 ? word(bytes, top - 2) : 0;
  // The 64 bits from the highest set one down (a, b), and what lies below them in `lo` (rest).
  const lz = Math.clz32(hi);
  const a = lz === 0 ? hi : ((hi << lz) | (mid >>> (32 - lz))) >>> 0;
  const b = lz === 0 ? mid : ((mid << lz) | (lo >>> (32 - lz))) >>> 0;
  const rest = lz === 0 ? lo : (lo << lz) >>> 0;
  // The top 53 bits, rounded half to even on the bit after them and any set bit below that.
  let mantissa = a * 2 ** 21 + (b >>> 11);
  if ((b & 0x400) !== 0) {
    let sticky = (b & 0x3ff) !== 0 || rest !== 0;
    for (let k = top - 3; k >= 0 && !sticky; k--) sticky = word(bytes, k) !== 0;
    if (sticky || mantissa % 2 === 1) mantissa++;
  }
  return mantissa * 2 ** (32 * (top - 1) - lz + 11);
}

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

/** Lower-case hex of `bytes`, e.g. for addresses in logs and audit lines. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number];
  return s;
}
