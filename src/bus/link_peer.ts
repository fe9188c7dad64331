/**
 * {@linkcode LinkPeer}: the {@linkcode RemotePeer} of a MessageBus over a
 * transport {@linkcode Link}, so actors in another process are reachable by
 * name and by subscription exactly as local ones.
 *
 * Wire mapping (one link frame per message, plus the link's envelope when
 * routed):
 * - `publish` → the message alone (the link's plain publish, on its topic);
 * - `send` → envelope `send` to the actor's name;
 * - `request` → envelope `request` to the actor's name, correlation = the
 *   requester's id;
 * - `reply` → envelope `reply` with the correlation, then the reply message;
 * - a failed request → envelope `reply` with the correlation, then a
 *   {@linkcode RequestFailed} message (type id {@linkcode REQUEST_FAILED_TYPE_ID},
 *   0xFEFF: the last user type id, reserved by Mycelium).
 *
 * What a process hosts travels in the link's announcement: actor names, and
 * subscriptions as topics. A subscription to a message type is announced as
 * the topic `#` + the type's name ({@linkcode TYPE_TOPIC_PREFIX}), so topics
 * starting with `#` are reserved.
 *
 * @module
 */
import {
  defineMessage,
  field,
  type Fields,
  type MessageType,
  type MessageView,
  type Registry,
} from "../codec/mod.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import {
  type Announcement,
  type InboundRoute,
  type Link,
  type OutboundRoute,
  type RouteKind,
  WRITE_RESULT,
} from "../transport/link.ts";
import { TransportError } from "../transport/transport_error.ts";
import { BusError } from "./bus_error.ts";
import type { MessageBus } from "./message_bus.ts";
import type { AnyMessage, PeerRoutes, RemotePeer } from "./remote_peer.ts";

/** Type id of {@linkcode RequestFailed}: the last user id, reserved by Mycelium. */
export const REQUEST_FAILED_TYPE_ID = 0xfeff;

/** Topic prefix under which a subscription to a message type is announced. */
export const TYPE_TOPIC_PREFIX = "#";

/**
 * The failure of a request, carried back to the requester's process (its
 * `BUS_*` code and message). Every process that links buses registers it
 * (`BusNode` adds it to the registry).
 */
export const RequestFailed = defineMessage({
  id: REQUEST_FAILED_TYPE_ID,
  name: "MyceliumRequestFailed",
  topic: "mycelium.request_failed",
  fields: { code: field.string(), message: field.string() },
});

/**
 * What the bus hosts, as a link announcement: actor names, and topics (a
 * type subscription becomes `#TypeName`).
 */
export function routesToAnnouncement(routes: PeerRoutes): Announcement {
  return {
    actors: [...routes.actors],
    topics: [...routes.topics, ...routes.types.map((t) => TYPE_TOPIC_PREFIX + t.name)],
  };
}

/**
 * A peer's announcement as bus routes: `#TypeName` topics resolved through
 * `registry` (names it does not know are left out: nothing here could send
 * them anyway).
 */
export function announcementToRoutes(a: Announcement, registry: Registry): PeerRoutes {
  const types: MessageType[] = [];
  const topics: string[] = [];
  for (const topic of a.topics) {
    if (topic.startsWith(TYPE_TOPIC_PREFIX)) {
      const type = registry.byName(topic.slice(TYPE_TOPIC_PREFIX.length));
      if (type !== undefined) types.push(type);
    } else {
      topics.push(topic);
    }
  }
  return { actors: [...a.actors], types, topics };
}

/** Options of {@linkcode LinkPeer}. */
export interface LinkPeerOptions {
  /** Where refused and dropped deliveries are reported. Default: nowhere. */
  logger?: Logger;
  /**
   * Inbound messages held while a local mailbox makes the link wait (the
   * link keeps reading; order is kept by queueing behind the waiting one).
   * One more is dropped and counted (`inboundDropped`; a request is failed
   * back with `BUS_MAILBOX_FULL`). Default: 4096.
   */
  inboundCapacity?: number;
  /**
   * Outbound messages held, in order, while the link's buffer is full under
   * its `wait` policy; one more throws `TRANSPORT_BUFFER_FULL`. Default: 4096.
   */
  maxParked?: number;
}

/** Counters of a {@linkcode LinkPeer}, beside its link's. */
export interface LinkPeerStats {
  /** Inbound messages the bus refused (no such actor, no handler, closed). */
  readonly refused: number;
  /** Inbound messages dropped because the inbound queue was full. */
  readonly inboundDropped: number;
  /** Inbound messages queued behind a waiting mailbox now. */
  readonly inboundQueued: number;
  /** Outbound messages waiting for room in the link's buffer now. */
  readonly parked: number;
}

interface Parked {
  type: MessageType;
  message: AnyMessage;
  route: OutboundRoute | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Inbound {
  view: MessageView<Fields>;
  kind: RouteKind;
  to: string;
  correlation: number;
}

/**
 * One process on the other end of a {@linkcode Link}, seen from the bus.
 *
 * The owner (e.g. `BusNode`) creates it when the link first opens, and
 * forwards the link's events: {@linkcode LinkPeer.receive} for each message,
 * {@linkcode LinkPeer.announced}, {@linkcode LinkPeer.closed}. While the
 * connection is down the peer's routes stay attached: messages for it wait in
 * the link's bounded buffer and are delivered, in order, when it comes back
 * (a restarted process gets them too). When the link closes for good the
 * routes are detached and requests awaiting a reply through it fail with
 * `BUS_NO_ROUTE`.
 *
 * Backpressure: an outbound message that finds the link's buffer full (policy
 * `wait`) is parked in order and its promise is handed to the sender; inbound,
 * a promise from a full mailbox holds later messages of this link in a bounded
 * queue until it resolves, so per sender→receiver order holds both ways.
 *
 * @example
 * ```ts ignore
 * const peer = new LinkPeer(bus, link, registry);
 * // in the link's handler:
 * //   message: (view, route) => peer.receive(view, route)
 * //   announce: (a) => peer.announced(a)
 * //   closed: () => peer.closed()
 * ```
 */
export class LinkPeer implements RemotePeer {
  readonly #bus: MessageBus;
  readonly #link: Link;
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #inboundCapacity: number;
  readonly #maxParked: number;
  readonly #route: { kind: RouteKind; to: string; correlation: number } = {
    kind: "send",
    to: "",
    correlation: 0,
  };
  #routes: PeerRoutes = { actors: [], types: [], topics: [] };
  #attached = false;
  #closed = false;

  // Outbound, waiting for room (a ring would do; arrays with a head index are enough here).
  #parked: Parked[] = [];
  #parkedHead = 0;
  #pump: Promise<void> | undefined;

  // Inbound, behind a waiting mailbox.
  #inbound: Inbound[] = [];
  #inboundHead = 0;
  #blocked = false;
  #refused = 0;
  #inboundDropped = 0;

  /** Wraps `link` (open, or about to be) for `bus`. */
  constructor(bus: MessageBus, link: Link, registry: Registry, options: LinkPeerOptions = {}) {
    this.#bus = bus;
    this.#link = link;
    this.#registry = registry;
    this.#log = options.logger ?? NULL_LOGGER;
    this.#inboundCapacity = options.inboundCapacity ?? 4096;
    this.#maxParked = options.maxParked ?? 4096;
  }

  /** The remote process's identity. */
  get id(): string {
    return this.#link.peer;
  }

  /** The link under this peer. */
  get link(): Link {
    return this.#link;
  }

  /** What the remote process last announced (empty until it did). */
  get routes(): PeerRoutes {
    return this.#routes;
  }

  /** Counters beside the link's. */
  stats(): LinkPeerStats {
    return {
      refused: this.#refused,
      inboundDropped: this.#inboundDropped,
      inboundQueued: this.#inbound.length - this.#inboundHead,
      parked: this.#parked.length - this.#parkedHead,
    };
  }

  // ---- RemotePeer (outbound) -------------------------------------------------

  /** Carries a message (or a request, when `requestId` > 0) to remote actor `to`. */
  send(
    to: string,
    type: MessageType,
    message: AnyMessage,
    requestId: number,
  ): void | Promise<void> {
    const r = this.#route;
    r.kind = requestId === 0 ? "send" : "request";
    r.to = to;
    r.correlation = requestId;
    return this.#write(type, message, r);
  }

  /** Carries a published message to the remote process's subscribers. */
  publish(type: MessageType, message: AnyMessage): void | Promise<void> {
    return this.#write(type, message, undefined);
  }

  /** Carries the reply to request `requestId`. */
  reply(requestId: number, type: MessageType, message: AnyMessage): void | Promise<void> {
    const r = this.#route;
    r.kind = "reply";
    r.to = type.topic;
    r.correlation = requestId;
    return this.#write(type, message, r);
  }

  /** Carries the failure of request `requestId`. */
  fail(requestId: number, code: string, message: string): void | Promise<void> {
    const r = this.#route;
    r.kind = "reply";
    r.to = RequestFailed.topic;
    r.correlation = requestId;
    return this.#write(RequestFailed, { code, message }, r);
  }

  #write(
    type: MessageType,
    message: AnyMessage,
    route: OutboundRoute | undefined,
  ): void | Promise<void> {
    if (this.#parked.length === this.#parkedHead) {
      if (this.#link.write(type, message, route) !== WRITE_RESULT.full) return;
    }
    const waiting = this.#parked.length - this.#parkedHead;
    if (waiting >= this.#maxParked) {
      throw new TransportError(
        "TRANSPORT_BUFFER_FULL",
        `link to '${this.id}' is full and ${waiting} messages already wait for room; ` +
          `${type.name} not sent`,
        { peer: this.id, messageType: type.name },
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#parked.push({
      type,
      message,
      route: route === undefined ? undefined : { ...route },
      resolve,
      reject,
    });
    this.#pump ??= this.#drainParked();
    return promise;
  }

  async #drainParked(): Promise<void> {
    const parked = this.#parked;
    try {
      while (this.#parkedHead < parked.length) {
        const p = parked[this.#parkedHead]!;
        let r: number;
        try {
          r = this.#link.write(p.type, p.message, p.route);
        } catch (e) {
          this.#parkedHead++;
          p.reject(e);
          continue;
        }
        if (r === WRITE_RESULT.full) {
          await this.#link.room();
          continue;
        }
        this.#parkedHead++;
        p.resolve();
      }
    } catch (e) {
      // The link closed while waiting for room: everyone still parked learns it.
      for (let i = this.#parkedHead; i < parked.length; i++) parked[i]!.reject(e);
      this.#parkedHead = parked.length;
    } finally {
      parked.length = 0;
      this.#parkedHead = 0;
      this.#pump = undefined;
    }
  }

  // ---- link events (inbound) -------------------------------------------------

  /**
   * A message from the link. Read synchronously (the link reuses `route`);
   * `view` stays valid (link read slabs are never rewritten).
   */
  receive(view: MessageView<Fields>, route: InboundRoute): void {
    if (this.#blocked) {
      this.#queue(view, route.kind, route.to, route.correlation);
      return;
    }
    this.#deliver(view, route.kind, route.to, route.correlation);
  }

  /** The remote process announced what it hosts: its routes replace the previous ones. */
  announced(announcement: Announcement): void {
    if (this.#closed) return;
    this.#routes = announcementToRoutes(announcement, this.#registry);
    this.#attached = true;
    this.#bus.attach(this, this.#routes);
  }

  /**
   * The link closed for good: routes are detached (requests awaiting a reply
   * through it fail with `BUS_NO_ROUTE`); queued inbound messages are still
   * handed to the bus. Idempotent.
   */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#attached) this.#bus.detach(this);
    this.#attached = false;
  }

  /** Resolves when no outbound message is parked (e.g. before closing the link). */
  async flushed(): Promise<void> {
    while (this.#pump !== undefined) await this.#pump;
  }

  #queue(view: MessageView<Fields>, kind: RouteKind, to: string, correlation: number): void {
    if (this.#inbound.length - this.#inboundHead >= this.#inboundCapacity) {
      this.#inboundDropped++;
      this.#log.warn("inbound queue full: message dropped", {
        peer: this.id,
        to,
        messageType: view.type.name,
        capacity: this.#inboundCapacity,
      });
      if (kind === "request") {
        void this.fail(
          correlation,
          "BUS_MAILBOX_FULL",
          `the inbound queue from '${this.#link.identity}' at '${this.id}' is full; ` +
            `${view.type.name} not delivered`,
        );
      }
      return;
    }
    this.#inbound.push({ view, kind, to, correlation });
  }

  #deliver(view: MessageView<Fields>, kind: RouteKind, to: string, correlation: number): void {
    let r: void | Promise<void>;
    try {
      switch (kind) {
        case "publish":
          r = this.#bus.deliverPublished(view.type, view);
          break;
        case "send":
          r = this.#bus.deliver(this, to, view.type, view, 0);
          break;
        case "request":
          r = this.#bus.deliver(this, to, view.type, view, correlation);
          break;
        case "reply":
          if (RequestFailed.isView(view)) {
            this.#bus.deliverFailure(correlation, view.code, view.message);
          } else {
            this.#bus.deliverReply(correlation, view.type, view);
          }
          return;
      }
    } catch (e) {
      this.#refuse(e, view, to);
      return;
    }
    if (r === undefined) return;
    this.#blocked = true;
    r.then(
      () => this.#resume(),
      (e) => {
        this.#refuse(e, view, to);
        this.#resume();
      },
    );
  }

  #resume(): void {
    this.#blocked = false;
    const q = this.#inbound;
    while (!this.#blocked && this.#inboundHead < q.length) {
      const m = q[this.#inboundHead]!;
      q[this.#inboundHead++] = undefined as unknown as Inbound;
      this.#deliver(m.view, m.kind, m.to, m.correlation);
    }
    if (this.#inboundHead === q.length) {
      q.length = 0;
      this.#inboundHead = 0;
    }
  }

  #refuse(error: unknown, view: MessageView<Fields>, to: string): void {
    this.#refused++;
    const code = error instanceof BusError ? error.code : undefined;
    this.#log.warn("a message from a linked process was not delivered", {
      peer: this.id,
      to,
      messageType: view.type.name,
      code,
      error,
    });
  }
}
