/**
 * Hashes of the key-value service: which shard owns a key, and a checksum
 * of a store's contents that does not depend on how the keys are spread
 * over shards or in which order they were written (a sum of per-entry
 * hashes), so every deployment of one run gives the same one.
 *
 * @module
 */

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;
const encoder = new TextEncoder();

/** FNV-1a (32-bit) of a string's UTF-16 code units. */
function fnv32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * The index of the shard owning `key`, among `shards`.
 *
 * @example
 * ```ts
 * import { shardOf } from "./store_hash.ts";
 * const i = shardOf("c0/k1", 3);
 * if (i !== shardOf("c0/k1", 3) || i < 0 || i > 2) throw new Error("not a stable shard index");
 * ```
 */
export function shardOf(key: string, shards: number): number {
  return fnv32(key) % shards;
}

/** FNV-1a (64-bit) of one entry: its key's and value's UTF-8 bytes, separated by a zero byte. */
export function entryHash(key: string, value: string): bigint {
  let h = FNV64_OFFSET;
  for (const b of encoder.encode(`${key}\u0000${value}`)) {
    h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  }
  return h;
}

/**
 * The checksum of a store: the sum of its entries' hashes, modulo 2^64.
 *
 * @example Order and sharding do not change it
 * ```ts
 * import { addChecksums, storeChecksum } from "./store_hash.ts";
 * const whole = storeChecksum([["a", "1"], ["b", "2"]]);
 * const split = addChecksums([storeChecksum([["b", "2"]]), storeChecksum([["a", "1"]])]);
 * if (whole !== split) throw new Error("the checksum depends on the order");
 * ```
 */
export function storeChecksum(entries: Iterable<readonly [string, string]>): bigint {
  let sum = 0n;
  for (const [key, value] of entries) sum = (sum + entryHash(key, value)) & MASK64;
  return sum;
}

/** Checksums of disjoint stores combined: the checksum of their union. */
export function addChecksums(checksums: Iterable<bigint>): bigint {
  let sum = 0n;
  for (const c of checksums) sum = (sum + c) & MASK64;
  return sum;
}

/** A checksum as 16 hex digits. */
export function checksumHex(checksum: bigint): string {
  return checksum.toString(16).padStart(16, "0");
}
