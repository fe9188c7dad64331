/**
 * The buses: {@linkcode MessageBus} (runtime routing through mailboxes and
 * links) and {@linkcode MonolithBus} (routing fixed in code, direct calls),
 * plus the {@linkcode RemotePeer} seam that links plug into.
 *
 * @module
 */
export { BusError, MailboxFullError, RequestTimeoutError } from "./bus_error.ts";
export type { BusErrorCode, BusErrorOptions } from "./bus_error.ts";
export { DEFAULT_MAILBOX_CAPACITY } from "./mailbox.ts";
export type { MailboxOptions, OverflowPolicy } from "./mailbox.ts";
export { MessageBus } from "./message_bus.ts";
export type {
  ActorRef,
  ActorStats,
  BusStats,
  CloseOptions,
  MessageBusOptions,
  ShutdownReport,
  SpawnOptions,
} from "./message_bus.ts";
export type { AnyMessage, PeerRoutes, RemotePeer } from "./remote_peer.ts";
export { MonolithBus } from "./monolith_bus.ts";
export type {
  Emitter,
  HandlesType,
  MonolithActorOptions,
  MonolithBusOptions,
  RouteTargets,
} from "./monolith_bus.ts";
