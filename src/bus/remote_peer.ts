/**
 * The seam between the MessageBus and links to other processes. The bus
 * hands a {@linkcode RemotePeer} everything addressed to actors or
 * subscriptions that the peer's process hosts; the link (in
 * `src/transport`) encodes, frames and writes it, and on the other side
 * calls the bus's `deliver*` methods with what it decodes.
 *
 * @module
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";

/** A message of some codec type, as the bus hands it to a link. */
export type AnyMessage = Readonly<Infer<Fields>>;

/**
 * One live link to another process, seen from the bus. Every method may
 * return a promise to apply backpressure (the bus hands it to the sender, who
 * awaits it) or throw a typed error (e.g. the link's buffer policy refused the
 * message). Calls for one peer are made in the order the bus received the
 * messages, which is how FIFO per sender→receiver holds across processes.
 *
 * @example
 * ```ts
 * import type { AnyMessage, RemotePeer } from "./remote_peer.ts";
 * import type { MessageType } from "../codec/mod.ts";
 *
 * // A peer that records what it would write to the socket.
 * const wrote: string[] = [];
 * const peer: RemotePeer = {
 *   id: "execution@host-a",
 *   send: (to: string, type: MessageType, _m: AnyMessage, requestId: number) =>
 *     void wrote.push(`send ${to} ${type.name} ${requestId}`),
 *   publish: (type: MessageType) => void wrote.push(`publish ${type.name}`),
 *   reply: (requestId: number) => void wrote.push(`reply ${requestId}`),
 *   fail: (requestId: number, code: string) => void wrote.push(`fail ${requestId} ${code}`),
 * };
 * if (peer.id !== "execution@host-a") throw new Error("unreachable");
 * ```
 */
export interface RemotePeer {
  /** Identity of the remote process, used in logs and errors. */
  readonly id: string;
  /**
   * Carries a point-to-point message to the remote actor `to`.
   * `requestId` is 0 for a plain message, otherwise the requester's id to
   * echo back through `reply` or `fail` on the other side.
   */
  send(to: string, type: MessageType, message: AnyMessage, requestId: number): void | Promise<void>;
  /** Carries a published message to the remote process's local subscribers. */
  publish(type: MessageType, message: AnyMessage): void | Promise<void>;
  /** Carries the reply to request `requestId` (an id the remote side chose). */
  reply(requestId: number, type: MessageType, message: AnyMessage): void | Promise<void>;
  /** Carries the failure of request `requestId`: a `BUS_*` code and a message. */
  fail(requestId: number, code: string, message: string): void | Promise<void>;
}

/**
 * What a process hosts: its actors' names, and the message types and topics
 * its actors subscribe to. A link announces the local routes when it opens and
 * attaches the remote ones with `MessageBus.attach`.
 */
export interface PeerRoutes {
  /** Names of actors hosted. */
  readonly actors: readonly string[];
  /** Message types subscribed to (resolved to local `MessageType` objects). */
  readonly types: readonly MessageType[];
  /** Topics subscribed to. */
  readonly topics: readonly string[];
}
