/**
 * Transports: links between processes over Unix sockets and TCP (plain or
 * TLS), with one framing layer, a handshake that checks versions, schemas and
 * a shared key, acknowledged delivery across reconnects, heartbeats and
 * bounded buffers. Knows the codec, nothing of actors or buses: a bus plugs in
 * through {@linkcode LinkHandler} and routes with {@linkcode OutboundRoute}.
 *
 * ## Pieces
 *
 * - {@linkcode Transport} (`UnixTransport`, `TcpTransport`): listens on and
 *   dials one address; the only place sockets are made.
 * - {@linkcode Link}: one logical connection to one peer process, surviving
 *   reconnects. `Link.connect(transport, options)` dials (and redials with
 *   exponential backoff and jitter); `write` queues without waiting, `send`
 *   waits for room; inbound messages reach `handler.message(view, route, link)`.
 * - {@linkcode LinkListener}: accepts connections, bounds how many may be in
 *   their handshake, and keeps one `Link` per peer identity, so a peer that
 *   reconnects or restarts gets its link (and what was buffered for it) back.
 *
 * ## The link protocol (on top of the codec's frames)
 *
 * Every frame is a codec frame; link control frames use the reserved type ids.
 *
 * 1. Handshake: the dialer sends `Hello` (link protocol version, a random boot
 *    id, its frame limit, a 32-byte nonce, its identity, one line
 *    `id name fingerprint` per message type it knows). The acceptor checks
 *    it and answers `Hello` + `Auth` (HMAC-SHA256 under the shared key over a
 *    role label and both Hellos); the dialer checks that, answers `Auth` with
 *    where its receive stream stands; the acceptor checks it and sends
 *    `Ready` with where its own stands. Version, schema or proof failures are
 *    sent as an `Error` frame and the connection is closed. Handshake frames
 *    are capped at 256 KiB and the whole handshake at `handshakeTimeoutMs`.
 * 2. Data: a message is one frame; a plain publish (to its type's topic)
 *    costs nothing more. A `send`, `request`, `reply` or a publish with a
 *    sender or another topic is preceded by a 21-byte `Envelope` (kind, to,
 *    from, correlation) and flagged `ROUTED` (header flags bit 0). Names are
 *    small ids defined by `Announce` frames (the whole table at each
 *    connection, new names as they appear). `Announce` also carries what the
 *    process hosts (actors) and subscribes to (topics).
 * 3. Acknowledgement: `Heartbeat` carries the count of data frames received.
 *    It is sent when idle (`heartbeatMs`), after every 512 frames, and when
 *    the sender asks (flags bit 1 on a data frame or heartbeat). The sender
 *    keeps frames until they are acknowledged; after a reconnect it writes
 *    again what the peer did not confirm. A peer with a new boot id is a new
 *    instance: the count restarts and every unconfirmed frame is sent again.
 * 4. Liveness: no whole frame for `peerTimeoutMs` (a dead peer, or one stuck
 *    mid-frame) ends the connection with `TRANSPORT_TIMEOUT`.
 * 5. `Close` says goodbye: an accepting side closes the peer's link for good;
 *    a dialing side treats it as a disconnect and redials.
 *
 * @example
 * ```ts
 * import { defineMessage, field, Registry } from "../codec/mod.ts";
 * import { Link, LinkListener, TcpTransport } from "./mod.ts";
 *
 * const Hello = defineMessage({ id: 3, name: "Greeting", fields: { text: field.string() } });
 * const registry = new Registry([Hello]);
 * const heard = Promise.withResolvers<string>();
 * await using listener = await LinkListener.listen(new TcpTransport({ port: 0 }), {
 *   registry,
 *   identity: "server",
 *   key: "shared secret",
 *   handler: {
 *     message(view, route) {
 *       if (Hello.isView(view)) heard.resolve(`${route.kind} to ${route.to}: ${view.text}`);
 *     },
 *   },
 * });
 * await using link = await Link.connect(listener.transport, {
 *   registry,
 *   identity: "client",
 *   key: "shared secret",
 * });
 * await link.send(Hello, { text: "hi" }, { kind: "send", to: "greeter" });
 * if (await heard.promise !== "send to greeter: hi") throw new Error("not heard");
 * ```
 *
 * @module
 */
export type { ByteListener, ByteStream, SocketKind, Transport } from "./transport.ts";
export { UnixTransport } from "./unix.ts";
export type { UnixTransportOptions } from "./unix.ts";
export { TcpTransport } from "./tcp.ts";
export type { TcpTransportOptions, TlsOptions } from "./tcp.ts";
export { Link, RECONNECT_DEFAULTS, WRITE_RESULT } from "./link.ts";
export type {
  Announcement,
  ConnectOptions,
  InboundRoute,
  LinkCloseOptions,
  LinkHandler,
  LinkOptions,
  LinkState,
  LinkStats,
  LinkWritten,
  OutboundRoute,
  OverflowPolicy,
  ReconnectOptions,
  RouteKind,
  SendOptions,
  WriteResult,
} from "./link.ts";
export { LinkListener } from "./listener.ts";
export type { LinkListenerOptions, ListenerStats } from "./listener.ts";
export { isTransportError, TransportError } from "./transport_error.ts";
export type { TransportErrorCode, TransportErrorOptions } from "./transport_error.ts";
export { silentLogger, stderrLogger } from "./logger.ts";
export type { LogFields, TransportLogger } from "./logger.ts";
export { LINK_PROTOCOL_VERSION } from "./_control.ts";
