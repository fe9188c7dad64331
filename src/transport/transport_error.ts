import { MyceliumError } from "../mycelium_error.ts";

/** Every code a {@linkcode TransportError} can carry. */
export type TransportErrorCode =
  /** The link or listener is closed; nothing more can be sent on it. */
  | "TRANSPORT_CLOSED"
  /** A connection could not be opened (refused, unreachable, bad address). */
  | "TRANSPORT_CONNECT"
  /** The handshake was malformed or out of order. */
  | "TRANSPORT_HANDSHAKE"
  /** The peer speaks another link protocol version. */
  | "TRANSPORT_VERSION"
  /** The peer failed (or refused) the shared-key challenge. */
  | "TRANSPORT_AUTH"
  /** A handshake, a frame or the peer's heartbeat did not arrive in time. */
  | "TRANSPORT_TIMEOUT"
  /** Both sides know a message type under one id or name with different schemas. */
  | "TRANSPORT_SCHEMA_MISMATCH"
  /** The peer sent bytes that are not a valid frame stream. */
  | "TRANSPORT_PROTOCOL"
  /** The outbound buffer is full and the overflow policy is `error`. */
  | "TRANSPORT_BUFFER_FULL"
  /** The peer does not know this message type (it is not in the peer's registry). */
  | "TRANSPORT_UNKNOWN_TYPE"
  /** A single frame is larger than the outbound buffer or the peer's frame limit. */
  | "TRANSPORT_FRAME_TOO_LARGE"
  /**
   * Too many connections were in their handshake at once; this one (the
   * silent or slowest, oldest first) was cut to make room. Retried by a dialer.
   */
  | "TRANSPORT_FLOOD"
  /**
   * The TLS handshake failed: the server's certificate is not trusted (not
   * signed by `tls.caFile`), names another host, or `tls.caFile` cannot be
   * read. Not retried: fix the certificate or the configuration.
   */
  | "TRANSPORT_TLS"
  /**
   * Another instance already holds a live link under this identity, and the
   * listener has no key to tell the two apart. Not retried.
   */
  | "TRANSPORT_DUPLICATE_IDENTITY"
  /** A Unix socket directory is readable or writable by other users. */
  | "TRANSPORT_INSECURE_PATH"
  /** Another live process already listens on this address. */
  | "TRANSPORT_ADDRESS_IN_USE"
  /** The peer reported an error and closed the link. */
  | "TRANSPORT_PEER_ERROR"
  /** NATS JetStream refused or did not acknowledge: no stream, no JetStream, a publish unanswered. */
  | "TRANSPORT_JETSTREAM";

/** Options of {@linkcode TransportError}. */
export interface TransportErrorOptions {
  /** The peer's process identity, when known. */
  peer?: string;
  /** The address concerned (socket path or host:port), when known. */
  address?: string;
  /** For `TRANSPORT_SCHEMA_MISMATCH`: the message type concerned. */
  messageType?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A link or listener failed. `peer` and `address` say which one, so a log
 * line names the offender.
 *
 * @example
 * ```ts
 * import { TransportError } from "./transport_error.ts";
 * const err = new TransportError("TRANSPORT_AUTH", "bad proof", { peer: "risk" });
 * if (err.code !== "TRANSPORT_AUTH" || err.peer !== "risk") throw new Error("unreachable");
 * ```
 */
export class TransportError extends MyceliumError {
  /** What failed; branch on this, never on the message. */
  declare readonly code: TransportErrorCode;
  /** The peer's process identity, or `undefined` before the handshake told it. */
  readonly peer: string | undefined;
  /** The address concerned, if any. */
  readonly address: string | undefined;
  /** The message type concerned (schema mismatches), if any. */
  readonly messageType: string | undefined;

  /** Creates a transport error. */
  constructor(code: TransportErrorCode, message: string, options: TransportErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.peer = options.peer;
    this.address = options.address;
    this.messageType = options.messageType;
  }
}

/** Whether `e` is a transport error with one of `codes`. */
export function isTransportError(e: unknown, ...codes: TransportErrorCode[]): e is TransportError {
  return e instanceof TransportError && (codes.length === 0 || codes.includes(e.code));
}
