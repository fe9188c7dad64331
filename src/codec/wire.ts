/**
 * Constants of the Mycelium wire format and the one header check every reader
 * shares. The format is specified in `docs/wire_format.md`.
 *
 * @module
 */
import { CodecError } from "./codec_error.ts";

/** First byte of every frame: ASCII `M`. */
export const FRAME_MAGIC = 0x4d;
/** The wire-format version this code writes and reads. */
export const WIRE_VERSION = 1;
/** Bytes in a frame header. */
export const HEADER_SIZE = 12;
/** Default upper bound on a frame's body, in bytes (16 MiB). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** Largest body length the header can express. */
export const MAX_BODY_LENGTH = 0xffff_ffff;

/** Byte offsets of the frame header's fields. */
export interface HeaderOffsets {
  /** u8 magic byte, `0x4D`. */
  readonly magic: number;
  /** u8 wire version. */
  readonly version: number;
  /** u16 message type id. */
  readonly typeId: number;
  /** u16 flags for the link layer. */
  readonly flags: number;
  /** u16 bytes of the fixed block the writer wrote. */
  readonly fixedLength: number;
  /** u32 bytes after the header. */
  readonly bodyLength: number;
}

/** Offsets of the header fields. */
export const HEADER_OFFSET: HeaderOffsets = Object.freeze({
  magic: 0,
  version: 1,
  typeId: 2,
  flags: 4,
  fixedLength: 6,
  bodyLength: 8,
});

/**
 * Smallest type id reserved for control frames; message types use 1 to 0xFEFF
 * (applications 1 to 0xFEEF, Mycelium's own messages 0xFEF0 to 0xFEFF).
 */
export const FIRST_CONTROL_TYPE_ID = 0xff00;

/** Names of the control frames. */
export type ControlFrame =
  | "handshake"
  | "handshakeAck"
  | "auth"
  | "heartbeat"
  | "announce"
  | "envelope"
  | "error"
  | "close";

/** Type ids reserved for the link layer's control frames. */
export const CONTROL_TYPE_ID: Readonly<Record<ControlFrame, number>> = Object.freeze({
  /** Opens a link: protocol version, identity, schema fingerprints. */
  handshake: 0xff01,
  /** Answers a handshake. */
  handshakeAck: 0xff02,
  /** Proves knowledge of the shared key (challenge response). */
  auth: 0xff03,
  /** Liveness probe and its answer. */
  heartbeat: 0xff04,
  /** Announces actors hosted and subscriptions held. */
  announce: 0xff05,
  /** Carries routing data (destination, correlation) for the next frame. */
  envelope: 0xff06,
  /** Reports an error before the sender closes the link. */
  error: 0xff07,
  /** Orderly close. */
  close: 0xff08,
});

/** Whether `id` may be used by a message type (what `defineMessage` accepts: 1 to 0xFEFF). */
export function isUserTypeId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id < FIRST_CONTROL_TYPE_ID;
}

/**
 * Checks the header that starts at `p` (12 bytes must be readable) and
 * returns the whole frame's length. Throws a {@linkcode CodecError} for a bad
 * magic byte, an unknown version, a fixed block longer than the body, or a
 * body over `maxBody`.
 */
export function checkHeader(u8: Uint8Array, dv: DataView, p: number, maxBody: number): number {
  if (u8[p] !== FRAME_MAGIC) {
    throw new CodecError(
      "CODEC_BAD_MAGIC",
      `expected frame magic 0x4d at byte ${p}, found 0x${hex(u8[p] ?? 0)}`,
      { offset: p },
    );
  }
  const version = u8[p + 1];
  if (version !== WIRE_VERSION) {
    throw new CodecError(
      "CODEC_BAD_VERSION",
      `frame at byte ${p} has wire version ${version}; this reader speaks version ${WIRE_VERSION}`,
      { offset: p + 1 },
    );
  }
  const bodyLength = dv.getUint32(p + HEADER_OFFSET.bodyLength, true);
  if (bodyLength > maxBody) {
    throw new CodecError(
      "CODEC_FRAME_TOO_LARGE",
      `frame at byte ${p} announces a ${bodyLength}-byte body; the limit is ${maxBody}`,
      { offset: p + HEADER_OFFSET.bodyLength },
    );
  }
  const fixedLength = dv.getUint16(p + HEADER_OFFSET.fixedLength, true);
  if (fixedLength > bodyLength) {
    throw new CodecError(
      "CODEC_BAD_LENGTH",
      `frame at byte ${p} has a ${fixedLength}-byte fixed block in a ${bodyLength}-byte body`,
      { offset: p + HEADER_OFFSET.fixedLength },
    );
  }
  return HEADER_SIZE + bodyLength;
}

/**
 * Checks a size option (`maxFrameSize`, `slabSize`): an integer from `min` to
 * {@linkcode MAX_BODY_LENGTH}. A NaN limit would silently disable the check.
 */
export function checkSizeOption(name: string, value: number, min: number): number {
  if (!(Number.isInteger(value) && value >= min && value <= MAX_BODY_LENGTH)) {
    throw new CodecError(
      "CODEC_INVALID_VALUE",
      `${name} must be an integer from ${min} to ${MAX_BODY_LENGTH}, got ${value}`,
    );
  }
  return value;
}

/** Throws CODEC_TRUNCATED unless `need` bytes are readable from `p` before `end`. */
export function requireBytes(p: number, need: number, end: number, what: string): void {
  if (end - p < need) {
    throw new CodecError(
      "CODEC_TRUNCATED",
      `${what} at byte ${p} needs ${need} bytes; only ${Math.max(0, end - p)} remain`,
      { offset: p },
    );
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}

let cachedBytes: Uint8Array | undefined;
let cachedLength = -1;
let cachedView: DataView | undefined;

/**
 * A DataView over exactly the bytes of `u8`. Remembers the last one, so code
 * that keeps working on one slab never allocates a DataView per message.
 * The length is compared too: an array over a resizable ArrayBuffer changes
 * length without changing identity, and a stale view would throw RangeError.
 */
export function viewOf(u8: Uint8Array): DataView {
  if (u8 === cachedBytes && u8.byteLength === cachedLength) return cachedView as DataView;
  cachedBytes = u8;
  cachedLength = u8.byteLength;
  // A transferred (detached) buffer reads as empty, so callers get a
  // CodecError about its length rather than a TypeError from DataView.
  cachedView = (u8.buffer as ArrayBuffer).detached === true
    ? EMPTY_VIEW
    : new DataView(u8.buffer, u8.byteOffset, cachedLength);
  return cachedView;
}

const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
