/**
 * A bump allocator for the bytes of decoded messages.
 *
 * A new ArrayBuffer costs about a microsecond in a busy loop here (far more
 * than decoding a whole message), so small copies are carved out of shared
 * 64 KiB chunks instead. A chunk is never rewritten: when it fills, a fresh
 * one is taken and the old one lives until the last message using it is
 * collected. Copies over 4 KiB get their own buffer.
 *
 * @module
 */

const CHUNK_SIZE = 64 * 1024;
const LARGE = 4 * 1024;

let chunk = new Uint8Array(CHUNK_SIZE);
let used = 0;

/** An independent copy of `src[start, end)`, usually sharing a chunk with other copies. */
export function copyBytes(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > LARGE) return src.slice(start, end);
  // chunk.length, not CHUNK_SIZE: once a caller transfers a copy's buffer
  // (postMessage), the chunk is detached, reads as length 0 and must be replaced.
  if (used + n > chunk.length || chunk.length === 0) {
    chunk = new Uint8Array(CHUNK_SIZE);
    used = 0;
  }
  const at = used;
  chunk.set(src.subarray(start, end), at);
  used = at + n;
  return chunk.subarray(at, at + n);
}
