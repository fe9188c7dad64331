/**
 * The transport family: how bytes get between two processes. A
 * {@linkcode Transport} names an address and knows how to listen on it and how
 * to dial it; everything above bytes (frames, handshake, authentication,
 * routing, heartbeats, reconnects) is shared by all transports and lives in
 * {@linkcode Link} and {@linkcode LinkListener}.
 *
 * Implementations: `UnixTransport` (a socket file in a private directory) and
 * `TcpTransport` (optionally TLS). The composition root picks one; nothing
 * keeps a registry of them.
 *
 * @module
 */

/** Which kind of socket a transport uses. */
export type SocketKind = "unix" | "tcp";

/** A connected byte stream: what `Deno.Conn` offers, reduced to what links use. */
export interface ByteStream {
  /** Reads into `buffer`; resolves to the count read, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to the count written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the stream; pending reads and writes fail. */
  close(): void;
  /** Who is at the other end, when the socket says (a listener's flood guard groups by it). */
  readonly remoteAddr?: Deno.Addr;
}

/** A listening socket. */
export interface ByteListener {
  /** A transport that dials this listener's bound address (e.g. the real port after port 0). */
  readonly transport: Transport;
  /** Waits for the next connection; rejects once closed. */
  accept(): Promise<ByteStream>;
  /** Stops listening (removes a Unix socket file). Idempotent. */
  close(): void;
}

/**
 * Listens on and dials one address. Three methods, like a router in a web
 * framework: what differs between transports is only how a socket is made.
 */
export interface Transport {
  /** `"unix"` or `"tcp"`. */
  readonly kind: SocketKind;
  /** The address, for logs: a socket path or `host:port` (with `tls+` in front for TLS). */
  readonly address: string;
  /** Starts listening. */
  listen(): Promise<ByteListener>;
  /** Opens a connection to the address. */
  dial(signal?: AbortSignal): Promise<ByteStream>;
}
