import { MyceliumError } from "../mycelium_error.ts";

/** Every code a {@linkcode CodecError} can carry. */
export type CodecErrorCode =
  /** The bytes end before the frame (or a field inside it) does. */
  | "CODEC_TRUNCATED"
  /** The first byte is not the Mycelium frame magic. */
  | "CODEC_BAD_MAGIC"
  /** The frame's protocol version is not one this reader speaks. */
  | "CODEC_BAD_VERSION"
  /** The frame announces a body larger than the configured maximum. */
  | "CODEC_FRAME_TOO_LARGE"
  /** A length inside the frame points outside the frame. */
  | "CODEC_BAD_LENGTH"
  /** No message type with this id is registered. */
  | "CODEC_UNKNOWN_TYPE"
  /** The frame holds another message type than the one asked for. */
  | "CODEC_TYPE_MISMATCH"
  /** A string field is not valid UTF-8. */
  | "CODEC_INVALID_UTF8"
  /** A bool field holds a byte other than 0 or 1. */
  | "CODEC_INVALID_BOOL"
  /** Bytes follow the frame where none were expected. */
  | "CODEC_TRAILING_BYTES"
  /** The target buffer cannot hold the encoded frame. */
  | "CODEC_BUFFER_TOO_SMALL"
  /** A value does not fit its field (wrong type, range or byte length). */
  | "CODEC_INVALID_VALUE"
  /** A message type declaration is malformed. */
  | "CODEC_INVALID_SCHEMA"
  /** Two message types with one id were put in one registry. */
  | "CODEC_DUPLICATE_TYPE";

/** Options of {@linkcode CodecError}. */
export interface CodecErrorOptions {
  /** Byte offset, from the start of the buffer given to the codec, where the problem is. */
  offset?: number;
  /** The field concerned, when there is one. */
  field?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A frame could not be encoded or decoded. `offset` says where in the buffer.
 *
 * @example
 * ```ts
 * import { CodecError } from "./codec_error.ts";
 * const err = new CodecError("CODEC_TRUNCATED", "need 12 bytes", { offset: 4 });
 * if (err.offset !== 4) throw new Error("unreachable");
 * ```
 */
export class CodecError extends MyceliumError {
  /** What went wrong; see {@linkcode CodecErrorCode}. */
  declare readonly code: CodecErrorCode;
  /** Byte offset of the problem in the buffer given to the codec, or -1 when not about bytes. */
  readonly offset: number;
  /** The field concerned, if any. */
  readonly field: string | undefined;

  /** Creates a codec error. */
  constructor(code: CodecErrorCode, message: string, options: CodecErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.offset = options.offset ?? -1;
    this.field = options.field;
  }
}
