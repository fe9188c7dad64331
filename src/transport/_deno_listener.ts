/**
 * What the Unix and TCP transports share: a listening Deno socket as a
 * {@linkcode ByteListener}, and the error of a failed dial.
 *
 * @module
 */
import type { ByteListener, ByteStream, Transport } from "./transport.ts";
import { TransportError } from "./transport_error.ts";

/** A `Deno.Listener` (TCP or Unix) seen as a {@linkcode ByteListener}. */
export class DenoByteListener implements ByteListener {
  readonly transport: Transport;
  readonly #listener: Deno.Listener | Deno.UnixListener;
  readonly #prepare: ((conn: Deno.Conn) => void) | undefined;
  #closed = false;

  /** Wraps `listener`; `prepare` tunes each accepted connection (e.g. no Nagle delay). */
  constructor(
    listener: Deno.Listener | Deno.UnixListener,
    transport: Transport,
    prepare?: (conn: Deno.Conn) => void,
  ) {
    this.#listener = listener;
    this.transport = transport;
    this.#prepare = prepare;
  }

  async accept(): Promise<ByteStream> {
    const conn = await this.#listener.accept();
    this.#prepare?.(conn);
    return conn;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
  }
}

/** The message of any thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The `TRANSPORT_CONNECT` error of a failed dial to `address`. */
export function connectError(address: string, e: unknown): TransportError {
  return new TransportError("TRANSPORT_CONNECT", `cannot connect to ${address}: ${messageOf(e)}`, {
    address,
    cause: e,
  });
}

/**
 * Turns Nagle's algorithm off on a TCP connection (a no-op on any other
 * stream). The listener does it once a connection's handshake succeeded, not
 * on accept: a flood of connections that never hand-shake costs no setsockopt.
 */
export function noDelay(stream: ByteStream): void {
  const conn = stream as Partial<Deno.TcpConn>;
  try {
    if (typeof conn.setNoDelay === "function") conn.setNoDelay(true);
  } catch {
    // Closed meanwhile: the link finds out on its first read or write.
  }
}
