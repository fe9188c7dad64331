/**
 * The bounded outbound buffer of a link: frames encoded straight into write
 * slabs, kept until the peer acknowledges them so a broken connection loses
 * nothing that was already written to the socket.
 *
 * Frames live in ranges of slabs ("segments"). `pending` segments are not yet
 * written; `inflight` ones were written and wait for the peer's cumulative
 * acknowledgement (a count of data frames). Sequence numbers are given when a
 * segment is taken for writing. After a reconnect, what the peer already got is
 * released and the rest of `inflight` is written again, in order, before
 * anything pending. The bound covers both, in bytes.
 *
 * @module
 */
import { Envelope } from "./_control.ts";

/** A range of whole frames in one slab. */
export class Segment {
  constructor(
    public buf: Uint8Array,
    public start: number,
    public end: number,
    public frames: number,
    public messages: number,
    public seq: number,
  ) {}
}

const ENVELOPE_LO = Envelope.id & 0xff;
const ENVELOPE_HI = Envelope.id >> 8;

/** Length of the frame at `p` (header + body), read without a DataView. */
function frameLength(b: Uint8Array, p: number): number {
  return 12 + ((b[p + 8]! | (b[p + 9]! << 8) | (b[p + 10]! << 16)) + b[p + 11]! * 0x1000000);
}

function isEnvelope(b: Uint8Array, p: number): boolean {
  return b[p + 2] === ENVELOPE_LO && b[p + 3] === ENVELOPE_HI;
}

/**
 * Largest pending segment (so largest write, but for a bigger single frame).
 * Smaller writes let the peer start sooner, and acknowledgements free room in
 * smaller steps, so a producer that waits for room runs in short bursts
 * between writes instead of starving the socket.
 */
const WRITE_MAX = 64 * 1024;

/** The outbound buffer. Not exported from the package. */
export class Outbox {
  readonly max: number;
  readonly #slabSize: number;
  #slab: Uint8Array;
  /** A DataView over exactly the current slab (encoders take one). */
  #slabView: DataView;
  #at = 0;
  /** The newest pending segment, if any (commits extend it). */
  #tail: Segment | undefined;
  #pending: Segment[] = [];
  #inflight: Segment[] = [];
  #resend = 0;
  #retained = 0;
  #pendingBytes = 0;
  #messages = 0;
  #nextSeq = 0;
  #acked = 0;
  #spare: Uint8Array[] = [];

  constructor(max: number, slabSize: number) {
    this.max = max;
    this.#slabSize = slabSize;
    this.#slab = new Uint8Array(slabSize);
    this.#slabView = new DataView(this.#slab.buffer);
  }

  /** Bytes held (pending and unacknowledged). */
  get retained(): number {
    return this.#retained;
  }

  /** Bytes not yet written (resends not counted). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Messages held (pending and unacknowledged). */
  get messages(): number {
    return this.#messages;
  }

  /** Whether a segment waits to be written. */
  get hasWork(): boolean {
    return this.#pending.length > 0 || this.#resend < this.#inflight.length;
  }

  /** Whether `need` more bytes fit the bound. */
  fits(need: number): boolean {
    return this.#retained + need <= this.max;
  }

  /** A slab with `need` free bytes at {@linkcode at}. */
  slab(need: number): Uint8Array {
    if (this.#slab.length - this.#at < need) {
      this.#slab = need <= this.#slabSize
        ? this.#spare.pop() ?? new Uint8Array(this.#slabSize)
        : new Uint8Array(need);
      this.#slabView = new DataView(this.#slab.buffer);
      this.#at = 0;
    }
    return this.#slab;
  }

  /** A DataView over exactly the slab {@linkcode slab} returned last. */
  get view(): DataView {
    return this.#slabView;
  }

  /** Where the next frame goes in the current slab. */
  get at(): number {
    return this.#at;
  }

  /** Records frames encoded at [at, end) of the current slab. */
  commit(end: number, frames: number): void {
    const start = this.#at;
    const tail = this.#tail;
    if (
      tail !== undefined && tail.buf === this.#slab && tail.end === start &&
      end - tail.start <= WRITE_MAX
    ) {
      tail.end = end;
      tail.frames += frames;
      tail.messages++;
    } else {
      const seg = new Segment(this.#slab, start, end, frames, 1, 0);
      this.#pending.push(seg);
      this.#tail = seg;
    }
    this.#retained += end - start;
    this.#pendingBytes += end - start;
    this.#messages++;
    this.#at = end;
  }

  /** Bytes of the segment {@linkcode take} would return next, or -1. */
  nextSize(): number {
    const seg = this.#resend < this.#inflight.length
      ? this.#inflight[this.#resend]
      : this.#pending[0];
    return seg === undefined ? -1 : seg.end - seg.start;
  }

  /** Data frames taken for writing for the first time. */
  framesWritten = 0;
  /** Bytes of those frames. */
  bytesWritten = 0;
  /** Frames taken for writing again (after a reconnect, unacknowledged). */
  framesResent = 0;

  /** The next segment to write: a resend first, else the oldest pending one. */
  take(): Segment | undefined {
    if (this.#resend < this.#inflight.length) {
      const again = this.#inflight[this.#resend++]!;
      this.framesResent += again.frames;
      return again;
    }
    const seg = this.#pending.shift();
    if (seg === undefined) return undefined;
    if (seg === this.#tail) this.#tail = undefined;
    this.#pendingBytes -= seg.end - seg.start;
    this.framesWritten += seg.frames;
    this.bytesWritten += seg.end - seg.start;
    seg.seq = this.#nextSeq;
    this.#nextSeq += seg.frames;
    this.#inflight.push(seg);
    this.#resend = this.#inflight.length;
    return seg;
  }

  /**
   * The peer has `count` data frames of this stream: release the segments it
   * has whole. A partly acknowledged segment is kept (and counted) until it is
   * whole or a reconnect needs the exact split, so acknowledging costs nothing
   * per frame.
   */
  ack(count: number): void {
    if (count > this.#acked) this.#acked = count;
    const inflight = this.#inflight;
    let shifted = 0;
    while (inflight.length > shifted) {
      const seg = inflight[shifted]!;
      if (seg.seq + seg.frames > count) break;
      this.#retained -= seg.end - seg.start;
      this.#messages -= seg.messages;
      shifted++;
      // The peer has every byte of this slab that any segment points to: keep it for reuse
      // (allocating and zeroing a fresh slab costs more than encoding into it), as long as
      // spares and held bytes together stay within the bound.
      const next = inflight[shifted] ?? this.#pending[0];
      if (
        seg.buf !== this.#slab && next?.buf !== seg.buf && seg.buf.length === this.#slabSize &&
        (this.#spare.length + 1) * this.#slabSize + this.#retained <= this.max
      ) {
        this.#spare.push(seg.buf);
      }
    }
    if (shifted > 0) {
      inflight.splice(0, shifted);
      this.#resend = Math.max(0, this.#resend - shifted);
    }
  }

  /** Trims the acknowledged frames off a partly acknowledged head segment. */
  #settle(): void {
    const head = this.#inflight[0];
    if (head !== undefined && head.seq < this.#acked) this.#advance(head, this.#acked - head.seq);
  }

  /**
   * A new connection opened. `received` is how many frames of this stream the
   * peer has, or -1 when the peer is a new instance that has none: then every
   * unacknowledged frame is numbered again from 0 and written again.
   */
  resume(received: number): void {
    this.#settle();
    if (received >= 0) {
      this.ack(received);
      this.#settle();
    }
    // Everything still held is numbered from what the peer has. (A head past
    // `received` means a new instance of the peer that lost frames its
    // predecessor acknowledged: it counts from `received`, so must we.)
    this.#nextSeq = Math.max(0, received);
    this.#acked = received >= 0 ? received : 0;
    for (const seg of this.#inflight) {
      seg.seq = this.#nextSeq;
      this.#nextSeq += seg.frames;
    }
    this.#resend = 0;
  }

  /**
   * Drops the oldest pending message (with its envelope). Returns false when
   * nothing pending is left to drop (written frames are never dropped).
   */
  dropOldest(): boolean {
    const seg = this.#pending[0];
    if (seg === undefined) return false;
    const b = seg.buf;
    let n = isEnvelope(b, seg.start) ? 2 : 1;
    let p = seg.start;
    while (n-- > 0) p += frameLength(b, p);
    const frames = isEnvelope(b, seg.start) ? 2 : 1;
    this.#retained -= p - seg.start;
    this.#pendingBytes -= p - seg.start;
    this.#messages--;
    seg.start = p;
    seg.frames -= frames;
    seg.messages--;
    if (seg.start === seg.end) {
      this.#pending.shift();
      if (seg === this.#tail) this.#tail = undefined;
    }
    return true;
  }

  /** Forgets everything (the link closed for good); returns the messages that were held. */
  clear(): number {
    this.#settle();
    const lost = this.#messages;
    this.#pending = [];
    this.#tail = undefined;
    this.#inflight = [];
    this.#resend = 0;
    this.#retained = 0;
    this.#pendingBytes = 0;
    this.#messages = 0;
    return lost;
  }

  #advance(seg: Segment, frames: number): void {
    const b = seg.buf;
    let p = seg.start;
    let messages = 0;
    for (let i = 0; i < frames; i++) {
      if (!isEnvelope(b, p)) messages++;
      p += frameLength(b, p);
    }
    this.#retained -= p - seg.start;
    this.#messages -= messages;
    seg.start = p;
    seg.frames -= frames;
    seg.seq += frames;
    seg.messages -= messages;
  }
}
