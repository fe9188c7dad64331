/**
 * 256-bit amounts kept as 32 little-endian bytes, the way `V2Swap` carries
 * them, converted to and from `bigint` where arithmetic needs them.
 *
 * @module
 */

const MASK_64 = (1n << 64n) - 1n;

/** Writes `value` (0 ≤ value < 2^256) into 32 little-endian bytes. */
export function u256ToBytes(value: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  if (value < 0n || value >> 256n !== 0n) throw new RangeError(`${value} does not fit in 256 bits`);
  const dv = new DataView(out.buffer, out.byteOffset, 32);
  for (let i = 0; i < 4; i++) dv.setBigUint64(i * 8, (value >> BigInt(64 * i)) & MASK_64, true);
  return out;
}

/** Reads 32 little-endian bytes as an unsigned integer. */
export function bytesToU256(bytes: Uint8Array): bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 32);
  let v = 0n;
  for (let i = 3; i >= 0; i--) v = (v << 64n) | dv.getBigUint64(i * 8, true);
  return v;
}

/** Lower-case hex of `bytes`, e.g. for addresses in logs and audit lines. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, "0");
  return s;
}
