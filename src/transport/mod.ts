/**
 * Transports: links between processes over Unix sockets and TCP (plain or
 * TLS), with one framing layer, a handshake that checks versions, schemas and
 * a shared key, acknowledged delivery across reconnects, heartbeats and
 * bounded buffers. Knows the codec, nothing of actors or buses: a bus plugs in
 * through {@linkcode LinkHandler} and routes with {@linkcode OutboundRoute}.
 *
 * @module
 */
export type { ByteListener, ByteStream, Transport, TransportKind } from "./transport.ts";
export { UnixTransport } from "./unix.ts";
export type { UnixTransportOptions } from "./unix.ts";
export { TcpTransport } from "./tcp.ts";
export type { TcpTransportOptions, TlsOptions } from "./tcp.ts";
export { Link, WRITE_RESULT } from "./link.ts";
export type {
  Announcement,
  CloseOptions,
  ConnectOptions,
  InboundRoute,
  LinkHandler,
  LinkOptions,
  LinkState,
  LinkStats,
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
