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
 * Flow control: a link reads whatever arrives, so the receiving side cannot
 * push back by not reading. Instead each direction runs on credit: a sender
 * has at most `window` messages the receiving bus has not yet accepted
 * (accepted = in a mailbox, or refused/dropped and counted); the receiver
 * returns credit in {@linkcode LinkCredit} frames (type id 0xFEFC) as its bus
 * accepts messages. Out of credit, messages park in order and their senders
 * get a promise, so a slow consumer slows its producers across processes
 * exactly as a full mailbox does in one process.
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

/** Type id of {@linkcode LinkCredit}. */
export const LINK_CREDIT_TYPE_ID = 0xfefc;

/** Credit returned to a sender: `n` more messages its peer's bus accepted. */
export const LinkCredit = defineMessage({
  id: LINK_CREDIT_TYPE_ID,
  name: "MyceliumLinkCredit",
  topic: "mycelium.credit",
  fields: { n: field.u32() },
});

/** Type id of {@linkcode LinkDrained}. */
export const LINK_DRAINED_TYPE_ID = 0xfefb;

/** What a {@linkcode LinkDrained} frame says. */
export const DRAIN_STATUS = {
  /** A report of drain round `round`: `count` messages accepted from links so far. */
  round: 0,
  /** The sender is not shutting down (an answer to a round report). */
  live: 1,
  /** The sender has finished its drain rounds and is leaving: it reports no more. */
  finished: 2,
  /** The sender has begun shutting down: its round reports follow once its actors are idle. */
  joined: 3,
} as const;

/**
 * A process's drain report to a linked one while both shut down (see
 * `BusNode`): never handed to the bus. It follows, on the link, everything
 * its sender sent before.
 */
export const LinkDrained = defineMessage({
  id: LINK_DRAINED_TYPE_ID,
  name: "MyceliumLinkDrained",
  topic: "mycelium.drained",
  fields: { status: field.u8(), round: field.u32(), count: field.u64() },
});

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
   * Messages this side may have in flight that the peer's bus has not yet
   * accepted (both sides should agree). Default: 1024.
   */
  window?: number;
  /**
   * Inbound messages held while a local mailbox makes the link wait (order
   * is kept by queueing behind the waiting one). Credit keeps a well-behaved
   * peer within `window`; a reconnect may resend up to a window more. One
   * more is dropped and counted (`inboundDropped`; a request is failed back
   * with `BUS_MAILBOX_FULL`). Default: 3 × `window`.
   */
  inboundCapacity?: number;
  /**
   * Outbound messages held, in order, while out of credit or while the
   * link's buffer is full under its `wait` policy; one more throws
   * `TRANSPORT_BUFFER_FULL`. Default: 4096.
   */
  maxParked?: number;
  /**
   * Start with inbound delivery held until {@linkcode LinkPeer.release}
   * (see {@linkcode LinkPeer.hold}). Default: false.
   */
  held?: boolean;
  /** Receives the peer's {@linkcode LinkDrained} frames. Default: they are ignored. */
  onDrained?: (status: number, round: number, count: bigint) => void;
}

/** Counters of a {@linkcode LinkPeer}, beside its link's. */
export interface LinkPeerStats {
  /** Inbound messages the bus refused (no such actor, no handler, closed). */
  readonly refused: number;
  /** Inbound messages dropped because the inbound queue was full. */
  readonly inboundDropped: number;
  /** Inbound messages queued behind a waiting mailbox now. */
  readonly inboundQueued: number;
  /** Outbound messages waiting for credit or room now. */
  readonly parked: number;
  /** Credit frames written (the link counts them among its messages). */
  readonly creditFramesSent: number;
  /** Credit frames received (the link counts them among its messages). */
  readonly creditFramesReceived: number;
  /** Drain frames written (the link counts them among its messages). */
  readonly drainFramesSent: number;
  /** Drain frames received (the link counts them among its messages). */
  readonly drainFramesReceived: number;
  /**
   * Inbound messages that arrived after the local bus had closed: refused
   * (counted in `refused` too) and lost.
   */
  readonly refusedClosed: number;
  /** Inbound data messages the bus has taken so far: delivered, refused or dropped. */
  readonly accepted: number;
  /**
   * Replies that matched no pending request: late ones (the request timed
   * out) or ones meant for an earlier run of this process that a peer
   * resent after a crash. They are ignored.
   */
  readonly unmatchedReplies: number;
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
  readonly #window: number;
  readonly #creditBatch: number;
  /** Messages this side may still send before the peer returns credit. */
  #credit: number;
  #creditArrived: PromiseWithResolvers<void> | undefined;
  /** Messages accepted by the local bus and not yet credited back. */
  #unreported = 0;
  #creditOwed = 0;
  #creditFramesSent = 0;
  #creditFramesReceived = 0;
  #creditPump: Promise<void> | undefined;
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
  #held: boolean;
  #refused = 0;
  #refusedClosed = 0;
  #unmatchedReplies = 0;
  #inboundDropped = 0;
  #acceptedTotal = 0;
  #drainFramesSent = 0;
  #drainFramesReceived = 0;
  readonly #onDrained: ((status: number, round: number, count: bigint) => void) | undefined;

  /** Wraps `link` (open, or about to be) for `bus`. */
  constructor(bus: MessageBus, link: Link, registry: Registry, options: LinkPeerOptions = {}) {
    this.#bus = bus;
    this.#link = link;
    this.#registry = registry;
    this.#log = options.logger ?? NULL_LOGGER;
    this.#window = options.window ?? 1024;
    this.#creditBatch = Math.max(1, Math.floor(this.#window / 4));
    this.#credit = this.#window;
    this.#inboundCapacity = options.inboundCapacity ?? 3 * this.#window;
    this.#maxParked = options.maxParked ?? 4096;
    this.#held = options.held ?? false;
    this.#onDrained = options.onDrained;
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
      creditFramesSent: this.#creditFramesSent,
      creditFramesReceived: this.#creditFramesReceived,
      drainFramesSent: this.#drainFramesSent,
      drainFramesReceived: this.#drainFramesReceived,
      refusedClosed: this.#refusedClosed,
      accepted: this.#acceptedTotal,
      unmatchedReplies: this.#unmatchedReplies,
    };
  }

  /**
   * Whether inbound messages are on their way to the bus: one waits for a
   * full mailbox, or released ones are queued. (Held ones are not.)
   */
  get delivering(): boolean {
    return this.#blocked || (!this.#held && this.#inboundHead < this.#inbound.length);
  }

  /** Inbound messages the local bus has accepted so far (`stats().accepted`, without the rest). */
  get accepted(): number {
    return this.#acceptedTotal;
  }

  /**
   * Writes a {@linkcode LinkDrained} frame behind everything sent before it
   * (parked messages first). Resolves once it is in the link's buffer, or
   * once a drop policy dropped it (a round report is sent again with the
   * next round; a `joined` or `finished` frame is not); rejects if the link
   * closed.
   */
  async drained(status: number, round: number, count: bigint): Promise<void> {
    await this.flushed();
    for (;;) {
      const r = this.#link.write(LinkDrained, { status, round, count });
      if (r === WRITE_RESULT.queued) {
        this.#drainFramesSent++;
        return;
      }
      if (r !== WRITE_RESULT.full) return; // dropped by a drop policy (see above)
      await this.#link.room();
    }
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
    if (this.#parked.length === this.#parkedHead && this.#credit > 0) {
      if (this.#tryWrite(type, message, route) !== WRITE_RESULT.full) return;
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

  /** Writes one data message, keeping the credit count. */
  #tryWrite(type: MessageType, message: AnyMessage, route: OutboundRoute | undefined): number {
    const link = this.#link;
    const before = link.stats.dropped;
    const r = link.write(type, message, route);
    if (r === WRITE_RESULT.full) return r;
    if (r === WRITE_RESULT.queued) this.#credit--;
    // Older messages a drop policy threw away will never be accepted: their credit returns.
    this.#credit += link.stats.dropped - before - (r === WRITE_RESULT.dropped ? 1 : 0);
    return r;
  }

  async #drainParked(): Promise<void> {
    const parked = this.#parked;
    try {
      while (this.#parkedHead < parked.length) {
        const p = parked[this.#parkedHead]!;
        if (this.#credit <= 0) {
          this.#creditArrived ??= Promise.withResolvers<void>();
          await this.#creditArrived.promise;
          continue;
        }
        let r: number;
        try {
          r = this.#tryWrite(p.type, p.message, p.route);
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
   * `view` stays valid (link read slabs are never rewritten), so it can wait
   * in the inbound queue. It goes to the bus as is: the bus decodes it once
   * into the plain message its actors receive, and hands the view itself
   * only to actors that asked for views (`SpawnOptions.views`).
   */
  receive(view: MessageView<Fields>, route: InboundRoute): void {
    if (LinkCredit.isView(view)) {
      this.#creditFramesReceived++;
      this.#credit += view.n;
      const waiter = this.#creditArrived;
      this.#creditArrived = undefined;
      waiter?.resolve();
      return;
    }
    if (view.type === LinkDrained) {
      // Only at a shutdown: a type comparison on the way of every other message.
      this.#drainFramesReceived++;
      const d = view as unknown as MessageView<typeof LinkDrained.fields>;
      this.#onDrained?.(d.status, d.round, d.count);
      return;
    }
    if (this.#blocked || (this.#held && route.kind !== "reply")) {
      this.#queue(view, route.kind, route.to, route.correlation);
      return;
    }
    this.#deliver(view, route.kind, route.to, route.correlation);
  }

  /**
   * Holds inbound delivery: messages from the peer wait, in order, in the
   * inbound queue (bounded by `inboundCapacity`; one more is dropped and
   * counted) and earn the peer no credit, so it soon waits for credit. (Each
   * reconnect gives the peer a fresh window beside what it resends, so
   * several reconnects while held can fill the queue.) Replies still pass:
   * they answer requests this process already made, unless they were queued
   * behind a full mailbox before the hold. For a process that must reach its
   * own downstream before it handles anything, e.g. one restarted while its
   * peers kept buffering for it.
   */
  hold(): void {
    this.#held = true;
  }

  /** Delivers what was held, in order, and stops holding. Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.#blocked) this.#resume();
  }

  /** Whether inbound delivery is held. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * A connection (re)opened. Credit starts afresh: what the previous
   * connection had in flight is resent by the link or was accepted already.
   */
  up(): void {
    this.#credit = this.#window;
    this.#unreported = 0;
    const waiter = this.#creditArrived;
    this.#creditArrived = undefined;
    waiter?.resolve();
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
   * through it fail with `BUS_NO_ROUTE`); inbound messages queued behind a
   * full mailbox are still handed to the bus, while held ones (never
   * released) are counted in `inboundDropped`. Idempotent.
   */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    const held = this.#inbound.length - this.#inboundHead;
    if (this.#held && held > 0) {
      this.#inboundDropped += held;
      this.#inbound = [];
      this.#inboundHead = 0;
      this.#log.warn("link closed while holding messages: they were never delivered", {
        peer: this.id,
        held,
      });
    }
    const waiter = this.#creditArrived;
    this.#creditArrived = undefined;
    waiter?.reject(
      new TransportError("TRANSPORT_CLOSED", `link to '${this.id}' is closed`, { peer: this.id }),
    );
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
      this.#accepted();
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
    let r: void | Promise<void> = undefined;
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
          if (
            !(RequestFailed.isView(view)
              ? this.#bus.deliverFailure(correlation, view.code, view.message)
              : this.#bus.deliverReply(correlation, view.type, view))
          ) this.#unmatchedReplies++;
          break;
      }
    } catch (e) {
      this.#refuse(e, view, to);
    }
    if (r === undefined) {
      this.#accepted();
      return;
    }
    this.#blocked = true;
    r.then(
      () => {
        this.#accepted();
        this.#resume();
      },
      (e) => {
        this.#refuse(e, view, to);
        this.#accepted();
        this.#resume();
      },
    );
  }

  /** The local bus took one message (or it was refused or dropped): credit it back in batches. */
  #accepted(): void {
    this.#acceptedTotal++;
    if (++this.#unreported < this.#creditBatch) return;
    const n = this.#unreported;
    this.#unreported = 0;
    try {
      // Credit never waits behind data (that could deadlock two busy peers).
      // Under a drop policy a full buffer drops it: it is retried like under `wait`.
      if (this.#link.write(LinkCredit, { n }) === WRITE_RESULT.queued) this.#creditFramesSent++;
      else this.#parkCredit(n);
    } catch (e) {
      this.#log.warn("credit could not be returned", { peer: this.id, error: e });
    }
  }

  /** Credit that found the link's buffer full: written as soon as there is room, before data. */
  #parkCredit(n: number): void {
    this.#creditOwed += n;
    this.#creditPump ??= this.#payCredit();
  }

  async #payCredit(): Promise<void> {
    try {
      while (this.#creditOwed > 0) {
        await this.#link.room();
        const n = this.#creditOwed;
        if (this.#link.write(LinkCredit, { n }) === WRITE_RESULT.queued) {
          this.#creditOwed -= n;
          this.#creditFramesSent++;
        }
      }
    } catch {
      // The link closed: nothing left to pay.
      this.#creditOwed = 0;
    } finally {
      this.#creditPump = undefined;
    }
  }

  #resume(): void {
    this.#blocked = false;
    const q = this.#inbound;
    while (!this.#blocked && !this.#held && this.#inboundHead < q.length) {
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
    if (code === "BUS_CLOSED") this.#refusedClosed++;
    this.#log.warn("a message from a linked process was not delivered", {
      peer: this.id,
      to,
      messageType: view.type.name,
      code,
      error,
    });
  }
}
