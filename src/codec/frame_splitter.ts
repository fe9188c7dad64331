import { CodecError } from "./codec_error.ts";
import {
  checkHeader,
  checkSizeOption,
  DEFAULT_MAX_FRAME_SIZE,
  HEADER_OFFSET,
  HEADER_SIZE,
} from "./wire.ts";

/** Options of {@linkcode FrameSplitter}. */
export interface FrameSplitterOptions {
  /** Largest frame body accepted, in bytes. Default: 16 MiB. */
  maxFrameSize?: number;
  /** Bytes of each new slab. Default: 64 KiB. Frames larger than a slab get a slab of their own. */
  slabSize?: number;
}

/** Default size of a read slab (64 KiB). */
export const DEFAULT_SLAB_SIZE = 64 * 1024;

/**
 * Cuts a byte stream into whole frames, whatever the chunking: a frame split
 * across reads, many frames in one read.
 *
 * Bytes land in a slab; whole frames are handed out as offsets into
 * {@linkcode FrameSplitter.buffer}, so views can point straight into it. A slab
 * is never written again once handed out: when it fills, a new one is taken
 * and the unfinished frame's bytes move there, so earlier views stay valid.
 * Header checks run as soon as 12 bytes are in, so an oversize or garbage
 * frame fails at once instead of waiting for its body. After an error the
 * splitter stays failed (the stream can't be resynchronised).
 *
 * @example
 * ```ts
 * import { defineMessage, field, FrameSplitter } from "../../mod.ts";
 * const Tick = defineMessage({ id: 2, name: "Tick", fields: { n: field.u32() } });
 * const bytes = new Uint8Array(64);
 * const end = Tick.encode({ n: 2 }, bytes, Tick.encode({ n: 1 }, bytes));
 * const splitter = new FrameSplitter();
 * splitter.push(bytes.subarray(0, 5)); // half a header
 * splitter.push(bytes.subarray(5, end));
 * const seen: number[] = [];
 * for (let p = splitter.next(); p >= 0; p = splitter.next()) {
 *   seen.push(Tick.view(splitter.buffer, p).n);
 * }
 * if (seen.join() !== "1,2") throw new Error("split");
 * ```
 */
export class FrameSplitter {
  readonly #maxFrame: number;
  readonly #slabSize: number;
  #buf: Uint8Array;
  #dv: DataView;
  #start = 0;
  #end = 0;
  #consumed = 0;
  #frameLength = 0;
  #failed: CodecError | undefined;

  /**
   * Creates an empty splitter.
   * @throws {CodecError} `CODEC_INVALID_VALUE` for a size that is not a positive integer.
   */
  constructor(options: FrameSplitterOptions = {}) {
    this.#maxFrame = checkSizeOption(
      "maxFrameSize",
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      0,
    );
    this.#slabSize = checkSizeOption("slabSize", options.slabSize ?? DEFAULT_SLAB_SIZE, 1);
    this.#buf = new Uint8Array(this.#slabSize);
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** The current slab. Offsets from {@linkcode next} point into it. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** A DataView over exactly {@linkcode buffer}. */
  get dataView(): DataView {
    return this.#dv;
  }

  /** Length of the frame {@linkcode next} returned last. */
  get frameLength(): number {
    return this.#frameLength;
  }

  /** Bytes held that do not yet form a whole frame. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Free space to read into (at least `min` bytes); call {@linkcode commit}
   * with the count read. Lets a socket read straight into the slab.
   */
  reserve(min = 1): Uint8Array {
    if (this.#buf.length - this.#end < min) this.#grow(min);
    return this.#buf.subarray(this.#end);
  }

  /** Marks `n` bytes written into the space {@linkcode reserve} returned. */
  commit(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.#buf.length - this.#end)) {
      throw new RangeError(
        `commit(${n}): only ${this.#buf.length - this.#end} bytes were reserved`,
      );
    }
    this.#end += n;
  }

  /** Copies `chunk` in. */
  push(chunk: Uint8Array): void {
    this.reserve(chunk.length).set(chunk);
    this.#end += chunk.length;
  }

  /**
   * Offset in {@linkcode buffer} of the next whole frame, or -1 until more
   * bytes arrive. Its length is {@linkcode frameLength}.
   * @throws {CodecError} for a bad header; offsets count from the stream's start.
   */
  next(): number {
    if (this.#failed !== undefined) throw this.#failed;
    const p = this.#start;
    const have = this.#end - p;
    if (have < HEADER_SIZE) return -1;
    let length: number;
    try {
      length = checkHeader(this.#buf, this.#dv, p, this.#maxFrame);
    } catch (e) {
      throw this.#fail(e as CodecError);
    }
    if (have < length) return -1;
    this.#start = p + length;
    this.#frameLength = length;
    return p;
  }

  /** Whole frames as subarrays of the slab (each subarray is a small allocation). */
  *frames(): IterableIterator<Uint8Array> {
    for (let p = this.next(); p >= 0; p = this.next()) {
      yield this.#buf.subarray(p, p + this.#frameLength);
    }
  }

  #fail(e: CodecError): CodecError {
    const streamOffset = this.#consumed + e.offset;
    this.#failed = new CodecError(e.code, `${e.message} (stream byte ${streamOffset})`, {
      offset: streamOffset,
      cause: e,
    });
    return this.#failed;
  }

  #grow(min: number): void {
    const pending = this.#end - this.#start;
    let want = pending + min;
    if (pending >= HEADER_SIZE) {
      const body = this.#dv.getUint32(this.#start + HEADER_OFFSET.bodyLength, true);
      if (body <= this.#maxFrame) want = Math.max(want, HEADER_SIZE + body);
    }
    const next = new Uint8Array(Math.max(this.#slabSize, want));
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#consumed += this.#start;
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
    this.#start = 0;
    this.#end = pending;
  }
}
