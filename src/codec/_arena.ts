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

/**
 * Reserves `n` bytes (at most 4 KiB) in the current chunk and returns their
 * offset; the caller writes them through {@linkcode arenaView}. Compiled
 * decoders copy short fixed blocks this way, 4 bytes a step, unrolled.
 */
export function reserve(n: number): number {
  // A chunk whose buffer was transferred away reads as length 0: start a fresh one.
  if (used + n > CHUNK_SIZE || chunk.length === 0) {
    chunk = new Uint8Array(CHUNK_SIZE);
    used = 0;
  }
  const at = used;
  used = at + n;
  return at;
}

/** Copies `n` bytes (at most 4 KiB) of `src` from `start` into the current chunk; returns their offset. */
export function copyIn(src: Uint8Array, start: number, n: number): number {
  const at = reserve(n);
  chunk.set(src.subarray(start, start + n), at);
  return at;
}

let viewed: Uint8Array | undefined;
let chunkView: DataView | undefined;

/** A DataView over the chunk the last {@linkcode reserve} or {@linkcode copyIn} used. */
export function arenaView(): DataView {
  if (viewed !== chunk) {
    viewed = chunk;
    chunkView = new DataView(chunk.buffer);
  }
  return chunkView as DataView;
}

/** The buffer the last {@linkcode reserve} or {@linkcode copyIn} used. */
export function arenaBuffer(): ArrayBuffer {
  return chunk.buffer;
}
