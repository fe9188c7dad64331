/**
 * {@linkcode NatsPeer}: the {@linkcode RemotePeer} of a MessageBus over a NATS
 * cluster. One NatsPeer stands for every process group this process reaches
 * through NATS, so a published message crosses the network once, however
 * many of those groups subscribe to it.
 *
 * Subjects (`P` is the topology's subject prefix):
 * - `P.a.<actor>`: messages and requests to an actor (its group subscribes);
 * - `P.p.<topic>.<TypeName>`: publishes of a message type (a group that
 *   subscribes to the type subscribes to it; one that subscribes to the
 *   topic subscribes to `P.p.<topic>.*`);
 * - `P.i.<group>`: replies to a group's requests; every message a group
 *   sends names this subject as its reply subject, which tells receivers who
 *   sent it;
 * - `P.hello`: what each group hosts (actors, subscriptions) and the
 *   fingerprints of its message types, announced when it starts, when its
 *   routes change, in answer to a new instance of a peer, and at its end.
 *
 * Payload: a 12-byte envelope (u8 kind, u8 zero, u16 sender tag or 0, u32
 * correlation, u32 sequence, little-endian) and the message as one Mycelium frame, the same
 * frame links carry, so the same codec and schema fingerprints apply: a peer
 * whose types differ is refused with `TRANSPORT_SCHEMA_MISMATCH`. The
 * messages one task sends to one subject travel as one NATS message, up to
 * 16 KiB of envelope-and-frame pairs back to back (numbered one after
 * another; a frame's header gives its length): the client and the servers
 * pay per NATS message, so a stream or a fan-out costs far less per frame.
 * A batch is published when the task ends, when it is full, or before
 * anything to another subject (order per sender holds across subjects).
 *
 * Delivery: core NATS delivers at most once. Each sender numbers its
 * messages per subject, so a receiver counts every gap as lost
 * (`lost` in {@linkcode NatsPeerStats}); after a reconnect and at the end
 * of a run each group tells the others its last numbers, which counts what
 * was lost at the tail too. What was sent to a group while its process was
 * down (killed, restarting) is not counted: its new instance starts counting
 * at the first message it gets on each subject.
 * Order per sender and receiver is NATS's own (one connection each).
 *
 * Backpressure: NATS cannot make a sender wait for a slow receiver, so each
 * direction between two groups runs on credit, as links do: a sender has at
 * most `window` messages a receiving group's bus has not yet accepted (a
 * publish takes credit from every group subscribed to it), and receivers
 * return credit in batches on the sender's inbox (envelope kind 5, no
 * frame). Out of credit, or past `maxPendingBytes` bytes handed to the
 * client and not yet confirmed by a server (a flush round trip), the
 * overflow policy applies (`wait` parks senders in order; `drop-newest` and
 * `drop-oldest` drop the new message, since bytes handed to the client
 * cannot be recalled; `error` throws `TRANSPORT_BUFFER_FULL`). Inbound, a
 * full mailbox holds later messages in a bounded queue; past it they are
 * dropped and counted (a request is failed back with `BUS_MAILBOX_FULL`).
 *
 * @module
 */
import {
  CodecError,
  type Fields,
  HEADER_SIZE,
  type MessageType,
  type MessageView,
} from "../codec/mod.ts";
import type { Registry } from "../codec/mod.ts";
import { checkHeader, requireBytes, viewOf } from "../codec/wire.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import type { OverflowPolicy } from "../overflow_policy.ts";
import { checkSchemas, typeLines } from "../transport/_handshake.ts";
import { TransportError } from "../transport/transport_error.ts";
import { BusError } from "./bus_error.ts";
import { announcementToRoutes, RequestFailed, routesToAnnouncement } from "./link_peer.ts";
import type { MessageBus } from "./message_bus.ts";
import type { AnyMessage, PeerRoutes, RemotePeer } from "./remote_peer.ts";
import {
  consumerDrained,
  JetStreamDedup,
  JetStreamPublisher,
  type NatsJetStreamWire,
  type NatsJetStreamWireMessage,
} from "./_nats_jetstream.ts";

export type { NatsJetStreamWire, NatsJetStreamWireMessage };

/** JetStream delivery for some groups (see {@linkcode NatsPeerOptions.jetstream}). */
export interface NatsPeerJetStream {
  /** The JetStream side of the connection (a `NatsJetStream`). */
  wire: NatsJetStreamWire;
  /**
   * The groups whose sends and publishes travel through JetStream (this
   * one among them or not); requests and replies stay on core NATS.
   */
  groups: readonly string[];
  /** Publishes the servers have not acknowledged yet, at most. Default: 1024. */
  window?: number;
  /** Messages this group's consumer hands out before it acknowledges them. Default: 1024. */
  maxAckPending?: number;
}

/** The parts of a NATS connection a {@linkcode NatsPeer} uses (`NatsTransport` has them). */
export interface NatsWire {
  /** Publishes `data` (kept by reference until written) on `subject`. */
  publish(subject: string, data: Uint8Array, reply?: string): void;
  /** Subscribes; returns the unsubscribe function. */
  subscribe(subject: string, handler: (message: NatsWireMessage) => void): () => void;
  /** Resolves when a server has processed everything published before. */
  flush(): Promise<void>;
}

/** A received message; `subject` and `reply` may be decoded only when read. */
export interface NatsWireMessage {
  /** The payload. */
  readonly data: Uint8Array;
  /** Its subject. */
  readonly subject: string;
  /** Its reply subject, if any. */
  readonly reply?: string | undefined;
}

/** Options of {@linkcode NatsPeer}. */
export interface NatsPeerOptions {
  /** This process's group. */
  identity: string;
  /** The groups reached through NATS (messages from any other sender are ignored). */
  peers: readonly string[];
  /**
   * Every group of the deployment, the same list in every process: each
   * message then names its sender by its place in the sorted list (envelope
   * bytes 2–3), so receivers need not decode the reply subject. Default:
   * none (senders are told by their reply subject).
   */
  groups?: readonly string[];
  /** Subject prefix of the deployment. Default: `mycelium`. */
  subjectPrefix?: string;
  /** Where refused, dropped and lost messages are reported. Default: nowhere. */
  logger?: Logger;
  /** Bytes handed to the client and not yet confirmed by a server. Default: 8 MiB. */
  maxPendingBytes?: number;
  /** What a full client buffer does. Default: `"wait"`. */
  overflow?: OverflowPolicy;
  /** Outbound messages parked under `wait`; one more throws `TRANSPORT_BUFFER_FULL`. Default: 4096. */
  maxParked?: number;
  /**
   * Messages a sender may have in flight to one group that its bus has not
   * yet accepted. Default: 16384 (credit returns through a server: a smaller
   * window leaves a stream waiting for it on a busy machine).
   */
  window?: number;
  /** Inbound messages held behind a full mailbox (or while held). Default: 3 × window × peers. */
  inboundCapacity?: number;
  /** Hold inbound delivery (replies excepted) until {@linkcode NatsPeer.release}. Default: false. */
  held?: boolean;
  /** A peer group's new instance announced itself (it restarted). */
  onPeerRestart?: (group: string) => void;
  /** A peer group was refused (schema mismatch); the peer stays unattached. */
  onRefused?: (error: TransportError) => void;
  /** What this process hosts changed in a way peers must hear (routes of a peer attached). */
  onRoutes?: () => void;
  /**
   * Groups reached through JetStream: what is sent or published to them is
   * stored by the cluster with a message id and acknowledged by the
   * receiving group once its bus accepted it (needs `groups`, which names
   * senders). Default: none (core NATS, at most once).
   */
  jetstream?: NatsPeerJetStream;
}

/** Counters of a {@linkcode NatsPeer}. */
export interface NatsPeerStats {
  /** Messages published (data only). */
  readonly sent: number;
  /** Messages received from peer groups (data only). */
  readonly received: number;
  /** Bytes published (envelopes and frames). */
  readonly bytes: number;
  /** Outbound messages dropped by the overflow policy. */
  readonly dropped: number;
  /** Inbound messages dropped: the inbound queue was full. */
  readonly inboundDropped: number;
  /** Messages a peer sent that never arrived (gaps in its numbering, and its tail at the end). */
  readonly lost: number;
  /** Inbound messages the bus refused (no such actor, no handler, unknown type). */
  readonly refused: number;
  /** Replies that matched no pending request. */
  readonly unmatchedReplies: number;
  /** Outbound messages parked at close (never published). */
  readonly undelivered: number;
  /** New instances of peer groups seen. */
  readonly peerRestarts: number;
  /** Inbound messages queued now. */
  readonly inboundQueued: number;
  /** JetStream publishes retried (not acknowledged in time; stored once by message id). */
  readonly retried: number;
  /** JetStream redeliveries of messages handled already: acknowledged, not handled again. */
  readonly redelivered: number;
}

const KIND_SEND = 1;
const KIND_REQUEST = 2;
const KIND_REPLY = 3;
const KIND_PUBLISH = 4;
const KIND_CREDIT = 5;
const KIND_SYNC = 6;
const KIND_NAMES = ["", "send", "request", "reply", "publish", "credit", "sync"] as const;
/** Bytes before the frame in every payload. */
export const NATS_ENVELOPE_SIZE = 12;
const SLAB_SIZE = 256 * 1024;
/**
 * A batch closes once it holds this many bytes: frames published in one
 * task to one subject travel as one NATS message (the client and servers
 * pay per message, so a stream or a fan-out costs far less per frame).
 */
const BATCH_BYTES = 16 * 1024;

interface Hello {
  /** group */
  g: string;
  /** instance */
  i: string;
  /** actors */
  a: string[];
  /** topics (`#Type` for type subscriptions) */
  t: string[];
  /** type lines */
  s: string;
  /** 1: an answer (do not answer it) */
  r?: number;
  /** 1: the group leaves */
  b?: number;
  /** last sequence number per subject (at the end of a run) */
  n?: Record<string, number>;
  /** 1: the group's connection came back; peers tell it their last numbers */
  c?: number;
}

interface RemoteGroup {
  readonly name: string;
  instance: string | undefined;
  routes: PeerRoutes;
  /** Last sequence number seen per subject. */
  readonly seq: Map<string, number>;
  /** Their final numbers arrived. */
  tallied: boolean;
  /** Messages this side may still send them before they return credit. */
  credit: number;
  /** Messages of theirs accepted here and not yet credited back. */
  owed: number;
  /** Their inbox subject. */
  readonly inbox: string;
  /** Sends and publishes to them travel through JetStream. */
  readonly js: boolean;
}

interface Parked {
  s: { subject: string; seq: number };
  targets: readonly RemoteGroup[];
  kind: number;
  correlation: number;
  type: MessageType;
  message: AnyMessage;
  reply: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Inbound {
  from: RemoteGroup;
  view: MessageView<Fields>;
  kind: number;
  to: string;
  correlation: number;
  /** A JetStream message: acknowledged (instead of credited) once the bus accepted it. */
  ack: (() => void) | undefined;
}

/**
 * Every process group reached through NATS, seen from the local bus.
 *
 * The owner (`BusNode`) creates it with a connection, calls
 * {@linkcode NatsPeer.start} once the bus hosts what it should announce,
 * {@linkcode NatsPeer.routesChanged} when that changes, and
 * {@linkcode NatsPeer.close} at the end.
 *
 * @example
 * ```ts ignore
 * const peer = new NatsPeer(bus, nats, registry, { identity: "feed", peers: ["logic"] });
 * peer.start();
 * ```
 */
export class NatsPeer implements RemotePeer {
  readonly #bus: MessageBus;
  readonly #wire: NatsWire;
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #identity: string;
  readonly #prefix: string;
  readonly #inbox: string;
  readonly #instance = crypto.randomUUID();
  readonly #maxPending: number;
  readonly #flushAt: number;
  readonly #overflow: OverflowPolicy;
  readonly #maxParked: number;
  readonly #inboundCapacity: number;
  readonly #window: number;
  readonly #creditBatch: number;
  readonly #options: NatsPeerOptions;
  /** Per published type, the groups it reaches (rebuilt when routes change). */
  #typeTargets = new Map<MessageType, RemoteGroup[]>();
  /** The type published last, its subject and its groups: a stream looks nothing up. */
  #lastType: MessageType | undefined;
  #lastSubject: { subject: string; seq: number } | undefined;
  #lastTargets: readonly RemoteGroup[] = NO_TARGETS;
  /** Per actor, the group hosting it. */
  #actorTargets = new Map<string, RemoteGroup[]>();
  /** Peer groups by name and by inbox subject. */
  readonly #groups = new Map<string, RemoteGroup>();
  readonly #byInbox = new Map<string, RemoteGroup>();
  /** By sender tag: the group, `null` for a group not reached through NATS. */
  readonly #byTag: (RemoteGroup | null)[] = [];
  readonly #tag: number;
  #union: PeerRoutes = { actors: [], types: [], topics: [] };
  #attached = false;
  #started = false;
  #closed = false;
  readonly #subs = new Map<string, () => void>();
  #helloKey = "";

  // Outbound.
  #slab = new Uint8Array(SLAB_SIZE);
  #dv = new DataView(this.#slab.buffer);
  #at = 0;
  readonly #sendSubjects = new Map<string, { subject: string; seq: number }>();
  readonly #publishSubjects = new Map<MessageType, { subject: string; seq: number }>();
  #unconfirmed = 0;
  /** The subject of the open batch (frames from `#batchAt` to `#at` of the slab), if any. */
  #batch: { subject: string; seq: number } | undefined;
  #batchAt = 0;
  #batchFrames = 0;
  #batchReply: string | undefined;
  #batchSoon = false;
  /** Publishes the open batch at the end of the current task (one closure for all). */
  readonly #closeSoon = () => {
    this.#batchSoon = false;
    this.#closeBatch();
  };
  #flushing = false;
  #room: PromiseWithResolvers<void> | undefined;
  #parked: Parked[] = [];
  #parkedHead = 0;
  #pump: Promise<void> | undefined;
  /** Requests from peers, by the id the local bus knows them by. */
  readonly #requests = new Map<number, { reply: string; correlation: number }>();
  #nextRequest = 0;

  // Inbound.
  #inbound: Inbound[] = [];
  #inboundHead = 0;
  #blocked = false;
  #held: boolean;

  #sent = 0;
  #received = 0;
  #bytes = 0;
  #dropped = 0;
  #inboundDropped = 0;
  #lost = 0;
  #refused = 0;
  #unmatchedReplies = 0;
  #undelivered = 0;
  #peerRestarts = 0;
  #tallyWaiters = new Set<() => void>();
  #byeSent = false;

  // JetStream (undefined without it).
  #js: NatsPeerJetStream | undefined;
  #jsPublisher: JetStreamPublisher | undefined;
  /** This group receives its sends and publishes through JetStream. */
  #jsHere = false;
  readonly #jsDedup = new JetStreamDedup();
  readonly #jsSubjects = new Map<string, { subject: string; seq: number }>();
  /** Per published type, the subscribing groups on core NATS and on JetStream. */
  #jsSplit = new Map<MessageType, { core: RemoteGroup[]; js: RemoteGroup[] }>();
  #jsStop: (() => void) | undefined;

  /** Wraps connection `wire` for `bus`. */
  constructor(bus: MessageBus, wire: NatsWire, registry: Registry, options: NatsPeerOptions) {
    this.#bus = bus;
    this.#wire = wire;
    this.#registry = registry;
    this.#options = options;
    this.#log = options.logger ?? NULL_LOGGER;
    this.#identity = options.identity;
    this.#prefix = options.subjectPrefix ?? "mycelium";
    this.#inbox = `${this.#prefix}.i.${options.identity}`;
    this.#maxPending = options.maxPendingBytes ?? 8 * 1024 * 1024;
    this.#flushAt = Math.max(1, Math.floor(this.#maxPending / 4));
    this.#overflow = options.overflow ?? "wait";
    this.#maxParked = options.maxParked ?? 4096;
    this.#window = options.window ?? 16384;
    this.#creditBatch = Math.max(1, Math.floor(this.#window / 4));
    this.#inboundCapacity = options.inboundCapacity ??
      3 * this.#window * Math.max(1, options.peers.length);
    this.#held = options.held ?? false;
    for (const name of options.peers) {
      const g: RemoteGroup = {
        name,
        instance: undefined,
        routes: { actors: [], types: [], topics: [] },
        seq: new Map(),
        tallied: false,
        credit: this.#window,
        owed: 0,
        inbox: `${this.#prefix}.i.${name}`,
        js: options.jetstream?.groups.includes(name) ?? false,
      };
      this.#groups.set(name, g);
      this.#byInbox.set(g.inbox, g);
    }
    const all = options.groups === undefined ? [] : [...new Set(options.groups)].sort();
    this.#tag = all.length < 0xffff ? all.indexOf(options.identity) + 1 : 0;
    if (this.#tag > 0) {
      all.forEach((name, i) => this.#byTag[i + 1] = this.#groups.get(name) ?? null);
    }
    const js = options.jetstream;
    if (js !== undefined) {
      this.#js = js;
      this.#jsHere = js.groups.includes(this.#identity);
      this.#jsPublisher = new JetStreamPublisher(
        js.wire,
        js.window ?? 1024,
        this.#maxParked,
        this.#log,
      );
    }
  }

  /** `nats`: the cluster stands for every group reached through it. */
  get id(): string {
    return "nats";
  }

  /** What the groups reached through NATS host, together. */
  get routes(): PeerRoutes {
    return this.#union;
  }

  /** Groups that announced themselves (and were not refused). */
  get announced(): string[] {
    return [...this.#groups.values()].filter((g) => g.instance !== undefined).map((g) => g.name);
  }

  /** Counters. */
  stats(): NatsPeerStats {
    return {
      sent: this.#sent,
      received: this.#received,
      bytes: this.#bytes,
      dropped: this.#dropped,
      inboundDropped: this.#inboundDropped,
      lost: this.#lost,
      refused: this.#refused,
      unmatchedReplies: this.#unmatchedReplies,
      undelivered: this.#undelivered,
      peerRestarts: this.#peerRestarts,
      inboundQueued: this.#inbound.length - this.#inboundHead,
      retried: this.#jsPublisher?.stats().retries ?? 0,
      redelivered: this.#jsDedup.stats().duplicates,
    };
  }

  /** Subscribes to the inbox, announcements and what the bus hosts, and announces it. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const inbox = this.#inbox;
    this.#subs.set(inbox, this.#wire.subscribe(inbox, (m) => this.#onMessage(m, inbox)));
    this.#subs.set(
      `${this.#prefix}.hello`,
      this.#wire.subscribe(`${this.#prefix}.hello`, (m) => this.#onHello(m.data)),
    );
    if (this.#jsHere) this.#consume();
    this.routesChanged();
  }

  /** What the bus hosts changed: subscriptions follow, and peers hear of it. */
  routesChanged(): void {
    if (!this.#started || this.#closed) return;
    const routes = this.#bus.hostedRoutes();
    const want = new Set<string>([this.#inbox, `${this.#prefix}.hello`]);
    for (const a of routes.actors) want.add(`${this.#prefix}.a.${a}`);
    const topics = new Set(routes.topics.map(subjectToken));
    // A JetStream group gets its publishes from its consumer.
    if (!this.#jsHere) {
      for (const t of topics) want.add(`${this.#prefix}.p.${t}.*`);
      for (const type of routes.types) {
        if (!topics.has(subjectToken(type.topic))) want.add(this.#publishSubject(type).subject);
      }
    }
    for (const [subject, unsubscribe] of this.#subs) {
      if (!want.has(subject)) {
        unsubscribe();
        this.#subs.delete(subject);
      }
    }
    for (const subject of want) {
      if (!this.#subs.has(subject)) {
        // An exact subject is known here; a wildcard's is read from the message.
        const handler = subject.endsWith("*")
          ? (m: NatsWireMessage) => this.#onMessage(m, m.subject)
          : (m: NatsWireMessage) => this.#onMessage(m, subject);
        this.#subs.set(subject, this.#wire.subscribe(subject, handler));
      }
    }
    const a = routesToAnnouncement(routes);
    const key = `${a.actors.join("\n")}\0${a.topics.join("\n")}`;
    if (key === this.#helloKey) return;
    this.#helloKey = key;
    this.#hello(0);
  }

  #hello(answer: number, extra: Partial<Hello> = {}): void {
    // After what was sent before it (a farewell's last numbers count what it missed).
    this.#closeBatch();
    const a = routesToAnnouncement(this.#bus.hostedRoutes());
    const hello: Hello = {
      g: this.#identity,
      i: this.#instance,
      a: a.actors as string[],
      t: a.topics as string[],
      s: typeLines(this.#registry),
      ...(answer === 0 ? {} : { r: 1 }),
      ...extra,
    };
    try {
      this.#wire.publish(`${this.#prefix}.hello`, new TextEncoder().encode(JSON.stringify(hello)));
    } catch (e) {
      this.#log.warn("announcement not published", { error: e });
    }
  }

  // ---- RemotePeer (outbound) -------------------------------------------------

  /** Carries a message (or a request, when `requestId` > 0) to actor `to`. */
  send(
    to: string,
    type: MessageType,
    message: AnyMessage,
    requestId: number,
  ): void | Promise<void> {
    if (this.#js !== undefined && requestId === 0) {
      const g = this.#actorTargets.get(to)?.[0];
      if (g?.js) return this.#jsWrite(g, `a.${to}`, KIND_SEND, type, message);
    }
    let s = this.#sendSubjects.get(to);
    if (s === undefined) {
      s = { subject: `${this.#prefix}.a.${to}`, seq: 0 };
      this.#sendSubjects.set(to, s);
    }
    return this.#write(
      s,
      this.#actorTargets.get(to) ?? NO_TARGETS,
      requestId === 0 ? KIND_SEND : KIND_REQUEST,
      requestId,
      type,
      message,
      this.#inbox,
    );
  }

  /** Carries a published message, once, to every subscribing group. */
  publish(type: MessageType, message: AnyMessage): void | Promise<void> {
    if (this.#js !== undefined) return this.#jsPublish(type, message);
    if (type !== this.#lastType) {
      this.#lastSubject = this.#publishSubject(type);
      this.#lastTargets = this.#typeTargets.get(type) ?? this.#targetsOf(type);
      this.#lastType = type;
    }
    return this.#write(
      this.#lastSubject!,
      this.#lastTargets,
      KIND_PUBLISH,
      0,
      type,
      message,
      this.#inbox,
    );
  }

  /** Carries the reply to request `requestId` (an id this peer gave the local bus). */
  reply(requestId: number, type: MessageType, message: AnyMessage): void | Promise<void> {
    const r = this.#requests.get(requestId);
    if (r === undefined) return;
    this.#requests.delete(requestId);
    // Replies are accepted at once by the requester's bus: they take no credit.
    return this.#write(
      this.#replySubject(r.reply),
      NO_TARGETS,
      KIND_REPLY,
      r.correlation,
      type,
      message,
      this.#inbox,
    );
  }

  /** Carries the failure of request `requestId`. */
  fail(requestId: number, code: string, message: string): void | Promise<void> {
    return this.reply(requestId, RequestFailed, { code, message });
  }

  #replySubject(inbox: string): { subject: string; seq: number } {
    let s = this.#sendSubjects.get(inbox);
    if (s === undefined) {
      s = { subject: inbox, seq: 0 };
      this.#sendSubjects.set(inbox, s);
    }
    return s;
  }

  #publishSubject(type: MessageType): { subject: string; seq: number } {
    let s = this.#publishSubjects.get(type);
    if (s === undefined) {
      s = { subject: `${this.#prefix}.p.${subjectToken(type.topic)}.${type.name}`, seq: 0 };
      this.#publishSubjects.set(type, s);
    }
    return s;
  }

  /** The groups a publish of `type` reaches: subscribed to the type or to its topic. */
  #targetsOf(type: MessageType): RemoteGroup[] {
    const out = [...this.#groups.values()].filter((g) =>
      g.routes.types.includes(type) || g.routes.topics.includes(type.topic)
    );
    this.#typeTargets.set(type, out);
    return out;
  }

  /** What a send or publish after `close` throws. */
  #closedError(type: MessageType): TransportError {
    return new TransportError(
      "TRANSPORT_CLOSED",
      `the NATS peer of '${this.#identity}' is closed`,
      { peer: this.id, messageType: type.name },
    );
  }

  #write(
    s: { subject: string; seq: number },
    targets: readonly RemoteGroup[],
    kind: number,
    correlation: number,
    type: MessageType,
    message: AnyMessage,
    reply: string,
  ): void | Promise<void> {
    if (this.#closed) throw this.#closedError(type);
    if (
      this.#parkedHead === this.#parked.length && this.#unconfirmed < this.#maxPending &&
      hasCredit(targets)
    ) {
      takeCredit(targets);
      this.#publish(s, kind, correlation, type, message, reply);
      return;
    }
    switch (this.#overflow) {
      case "drop-newest":
      case "drop-oldest":
        this.#dropped++;
        return;
      case "error":
        throw new TransportError(
          "TRANSPORT_BUFFER_FULL",
          `the NATS client holds ${this.#unconfirmed} bytes no server confirmed yet ` +
            `(bound ${this.#maxPending}), or a receiving group has ${this.#window} messages ` +
            `it has not accepted; ${type.name} not sent`,
          { peer: this.id, messageType: type.name },
        );
    }
    const waiting = this.#parked.length - this.#parkedHead;
    if (waiting >= this.#maxParked) {
      throw new TransportError(
        "TRANSPORT_BUFFER_FULL",
        `the NATS client is full and ${waiting} messages already wait for room; ` +
          `${type.name} not sent`,
        { peer: this.id, messageType: type.name },
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#parked.push({
      s,
      targets,
      kind,
      correlation,
      type,
      message,
      reply,
      resolve,
      reject,
    });
    this.#pump ??= this.#drainParked();
    return promise;
  }

  #publish(
    s: { subject: string; seq: number },
    kind: number,
    correlation: number,
    type: MessageType,
    message: AnyMessage,
    reply: string,
  ): void {
    // One batch per subject at a time: a sender's frames keep their order across subjects.
    if (this.#batch !== s && this.#batch !== undefined) this.#closeBatch();
    const seq = s.seq + 1;
    const size = this.#encode(kind, correlation, seq, type, message);
    s.seq = seq;
    if (this.#batch === undefined) {
      this.#batch = s;
      this.#batchAt = this.#at - size;
      this.#batchReply = reply;
    }
    this.#batchFrames++;
    this.#sent++;
    this.#bytes += size;
    this.#unconfirmed += size;
    if (this.#at - this.#batchAt >= BATCH_BYTES) this.#closeBatch();
    else if (!this.#batchSoon) {
      this.#batchSoon = true;
      queueMicrotask(this.#closeSoon);
    }
    if (this.#unconfirmed >= this.#flushAt && !this.#flushing) this.#confirm();
  }

  /**
   * Publishes the open batch: its frames, each behind its envelope, as one
   * NATS message. A connection that refuses it loses them (counted as
   * dropped here; the receivers count the gap as lost).
   */
  #closeBatch(): void {
    const s = this.#batch;
    if (s === undefined) return;
    this.#batch = undefined;
    const frames = this.#batchFrames;
    this.#batchFrames = 0;
    try {
      // With sender tags the envelope names the sender: no reply subject to write and parse.
      this.#wire.publish(
        s.subject,
        this.#slab.subarray(this.#batchAt, this.#at),
        this.#tag === 0 ? this.#batchReply : undefined,
      );
    } catch (e) {
      this.#dropped += frames;
      this.#log.warn("messages not published over NATS", {
        subject: s.subject,
        messages: frames,
        error: e,
      });
    }
  }

  /** Writes the envelope and frame at the end of the slab (a new one when it is full); returns their size. */
  #encode(
    kind: number,
    correlation: number,
    seq: number,
    type: MessageType,
    message: AnyMessage,
  ): number {
    for (;;) {
      const at = this.#at;
      const slab = this.#slab;
      const room = slab.length - at - NATS_ENVELOPE_SIZE;
      // A fixed-size frame that cannot fit needs no failed attempt (and no error built).
      if (room > 0 && (type.variable || room >= HEADER_SIZE + type.fixedSize)) {
        try {
          // The slab's own DataView: no offset check or DataView lookup per frame (as links do).
          const dv = this.#dv;
          const end = type._encode(message, slab, dv, at + NATS_ENVELOPE_SIZE);
          dv.setUint32(at, kind | (this.#tag << 16), true);
          dv.setUint32(at + 4, correlation, true);
          dv.setUint32(at + 8, seq, true);
          this.#at = end;
          return end - at;
        } catch (e) {
          if (!(e instanceof CodecError && e.code === "CODEC_BUFFER_TOO_SMALL")) throw e;
        }
      }
      // A batch lies in one slab: publish the open one first.
      this.#closeBatch();
      // The client still holds the old slab's bytes until it writes them: never reuse it.
      const size = Math.max(SLAB_SIZE, NATS_ENVELOPE_SIZE + type.encodedSize(message));
      this.#slab = new Uint8Array(size);
      this.#dv = new DataView(this.#slab.buffer);
      this.#at = 0;
    }
  }

  /** Asks a server to confirm what was published; frees that much room when it does. */
  #confirm(): void {
    this.#closeBatch();
    this.#flushing = true;
    const covered = this.#unconfirmed;
    this.#wire.flush().then(
      () => {
        this.#unconfirmed -= covered;
        this.#flushing = false;
        const room = this.#room;
        this.#room = undefined;
        room?.resolve();
        if (this.#unconfirmed >= this.#flushAt && !this.#closed) this.#confirm();
      },
      (e) => {
        this.#flushing = false;
        const room = this.#room;
        this.#room = undefined;
        room?.reject(e);
      },
    );
  }

  async #drainParked(): Promise<void> {
    const parked = this.#parked;
    try {
      while (this.#parkedHead < parked.length) {
        const next = parked[this.#parkedHead]!;
        if (this.#unconfirmed >= this.#maxPending || !hasCredit(next.targets)) {
          if (this.#unconfirmed >= this.#maxPending && !this.#flushing) this.#confirm();
          this.#room ??= Promise.withResolvers<void>();
          await this.#room.promise;
          continue;
        }
        const p = parked[this.#parkedHead++]!;
        try {
          takeCredit(p.targets);
          this.#publish(p.s, p.kind, p.correlation, p.type, p.message, p.reply);
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    } catch (e) {
      for (let i = this.#parkedHead; i < parked.length; i++) parked[i]!.reject(e);
      this.#parkedHead = parked.length;
    } finally {
      parked.length = 0;
      this.#parkedHead = 0;
      this.#pump = undefined;
    }
  }

  /** Resolves when nothing is parked and a server confirmed everything published. */
  async flushed(): Promise<void> {
    while (this.#pump !== undefined) await this.#pump;
    await this.#jsPublisher?.settled();
    this.#closeBatch();
    await this.#wire.flush();
  }

  // ---- JetStream ---------------------------------------------------------------

  /** A publish: once on core NATS for the groups there, once per JetStream group. */
  #jsPublish(type: MessageType, message: AnyMessage): void | Promise<void> {
    let split = this.#jsSplit.get(type);
    if (split === undefined) {
      const all = this.#typeTargets.get(type) ?? this.#targetsOf(type);
      split = { core: all.filter((g) => !g.js), js: all.filter((g) => g.js) };
      this.#jsSplit.set(type, split);
    }
    let waits: Promise<void>[] | undefined;
    if (split.core.length > 0 || split.js.length === 0) {
      const r = this.#write(
        this.#publishSubject(type),
        split.core,
        KIND_PUBLISH,
        0,
        type,
        message,
        this.#inbox,
      );
      if (r !== undefined) (waits ??= []).push(r);
    }
    const suffix = `p.${subjectToken(type.topic)}.${type.name}`;
    for (const g of split.js) {
      const r = this.#jsWrite(g, suffix, KIND_PUBLISH, type, message);
      if (r !== undefined) (waits ??= []).push(r);
    }
    if (waits === undefined) return;
    return Promise.all(waits).then(() => {});
  }

  /**
   * Stores a message for group `g` on `P.j.<group>.<suffix>`, numbered per
   * subject, under an id naming this instance, the subject and the number:
   * a retried publish is stored once, and the receiver skips a redelivery.
   */
  #jsWrite(
    g: RemoteGroup,
    suffix: string,
    kind: number,
    type: MessageType,
    message: AnyMessage,
  ): void | Promise<void> {
    if (this.#closed) throw this.#closedError(type);
    const subject = `${this.#prefix}.j.${g.name}.${suffix}`;
    let s = this.#jsSubjects.get(subject);
    if (s === undefined) {
      s = { subject, seq: 0 };
      this.#jsSubjects.set(subject, s);
    }
    const seq = ++s.seq;
    // Bytes of its own: they stay referenced until the servers acknowledge them (retries resend them).
    const data = new Uint8Array(NATS_ENVELOPE_SIZE + type.encodedSize(message));
    type.encode(message, data, NATS_ENVELOPE_SIZE);
    const dv = new DataView(data.buffer);
    dv.setUint32(0, kind | (this.#tag << 16), true);
    dv.setUint32(8, seq, true);
    this.#sent++;
    this.#bytes += data.length;
    return this.#jsPublisher!.publish(subject, data, `${this.#instance}:${subject}:${seq}`);
  }

  /**
   * Consumes this group's durable consumer. It is made afresh: what the
   * group's previous instance took and never acknowledged comes first, in
   * the order stored (a kept consumer would hand it out again only after
   * its acknowledgement deadline, behind newer messages).
   */
  #consume(): void {
    const js = this.#js!;
    const filter = `${this.#prefix}.j.${this.#identity}.>`;
    js.wire.consume(filter, this.#identity, (m) => this.#onJetStream(m), {
      fresh: true,
      ...(js.maxAckPending === undefined ? {} : { maxAckPending: js.maxAckPending }),
    }).then(
      (stop) => {
        if (this.#closed) stop();
        else this.#jsStop = stop;
      },
      (e) => {
        this.#log.error("the JetStream consumer of this group could not start", {
          group: this.#identity,
          error: e,
        });
        if (e instanceof TransportError) this.#options.onRefused?.(e);
      },
    );
  }

  #onJetStream(m: NatsJetStreamWireMessage): void {
    const data = m.data;
    const tag = data.length < NATS_ENVELOPE_SIZE ? 0 : data[2]! | (data[3]! << 8);
    const from = tag === 0 ? undefined : this.#byTag[tag];
    if (from === undefined || from === null || this.#closed) {
      // Not a group of this deployment reached through NATS (or closing): nothing to do here.
      if (!this.#closed) m.ack();
      return;
    }
    const kind = data[0]!;
    const seq = (data[8]! | (data[9]! << 8) | (data[10]! << 16) | (data[11]! << 24)) >>> 0;
    const id = m.msgId ?? "";
    const cut = id.lastIndexOf(":");
    const key = cut > 0 ? id.slice(0, cut) : `${tag}:${m.subject}`;
    if (!this.#jsDedup.admit(key, seq, m.redelivered)) {
      m.ack();
      return;
    }
    this.#received++;
    let view: MessageView<Fields>;
    try {
      view = this.#registry.view(data.subarray(NATS_ENVELOPE_SIZE));
    } catch (e) {
      this.#refused++;
      this.#log.warn("a message from JetStream could not be read", {
        peer: from.name,
        subject: m.subject,
        error: e,
      });
      m.ack();
      return;
    }
    // P.j.<group>.a.<actor> or P.j.<group>.p.<topic>.<Type>
    const to = kind === KIND_SEND
      ? m.subject.slice(this.#prefix.length + this.#identity.length + 6)
      : "";
    const ack = () => m.ack();
    if (this.#blocked || this.#held) this.#queue(from, view, kind, to, 0, ack);
    else this.#deliver(from, view, kind, to, 0, ack);
  }

  // ---- inbound -----------------------------------------------------------------

  #onMessage(m: NatsWireMessage, subject: string): void {
    const data = m.data;
    if (data.length < NATS_ENVELOPE_SIZE) return;
    const tag = data[2]! | (data[3]! << 8);
    const byTag = tag === 0 ? undefined : this.#byTag[tag];
    // null: a group a link reaches (its messages come that way), or one of another deployment.
    if (byTag === null) return;
    const from = byTag ?? this.#byInbox.get(m.reply ?? "");
    if (from === undefined) return;
    const kind = data[0]!;
    const correlation = (data[4]! | (data[5]! << 8) | (data[6]! << 16) | (data[7]! << 24)) >>> 0;
    if (kind === KIND_CREDIT) {
      from.credit += correlation;
      const room = this.#room;
      this.#room = undefined;
      room?.resolve();
      return;
    }
    if (kind === KIND_SYNC) {
      try {
        const last = JSON.parse(
          new TextDecoder().decode(data.subarray(NATS_ENVELOPE_SIZE)),
        ) as Record<string, number>;
        this.#catchUp(from, last);
      } catch (e) {
        this.#log.warn("a NATS sync message could not be read", { peer: from.name, error: e });
      }
      return;
    }
    // One frame or a batch of them, each behind its own envelope, numbered one after another.
    // The first message of a subject sets where this instance starts: a restarted group
    // cannot tell what its predecessor received from what went missing while it was down.
    let last = from.seq.get(subject) ?? -1;
    let to: string | undefined;
    let at = 0;
    const length = data.length;
    const dv = viewOf(data);
    while (at + NATS_ENVELOPE_SIZE + HEADER_SIZE <= length) {
      const kind = data[at]!;
      const correlation = (data[at + 4]! | (data[at + 5]! << 8) | (data[at + 6]! << 16) |
        (data[at + 7]! << 24)) >>> 0;
      const seq = (data[at + 8]! | (data[at + 9]! << 8) | (data[at + 10]! << 16) |
        (data[at + 11]! << 24)) >>> 0;
      const p = at + NATS_ENVELOPE_SIZE;
      // The frame's body length (header bytes 8-11) says where the next envelope starts.
      at = p + HEADER_SIZE + ((data[p + 8]! | (data[p + 9]! << 8) | (data[p + 10]! << 16) |
        (data[p + 11]! << 24)) >>> 0);
      if (last === -1) last = seq - 1;
      if (seq <= last) continue; // a repeat (never in core NATS; safe to ignore)
      if (seq !== last + 1) {
        const gap = seq - last - 1;
        this.#lose(from.name, subject, gap);
        // What never arrived was paid for with credit: give it back.
        if (subject !== this.#inbox) this.#accepted(from, gap);
      }
      last = seq;
      this.#received++;
      let view: MessageView<Fields>;
      let framed = false;
      try {
        // What Registry.view checks, once per frame (the header, and that it ends in the payload).
        requireBytes(p, checkHeader(data, dv, p, this.#registry.maxFrameSize), length, "frame");
        framed = true;
        view = this.#registry.viewChecked(data, dv, p);
      } catch (e) {
        this.#refused++;
        this.#log.warn("a message from NATS could not be read", {
          peer: from.name,
          subject,
          error: e,
        });
        // A bad header leaves no trustworthy boundary for the frames after it.
        if (framed) continue;
        break;
      }
      if (kind === KIND_SEND || kind === KIND_REQUEST) {
        to ??= subject.slice(this.#prefix.length + 3);
      }
      let correlationHere = correlation;
      if (kind === KIND_REQUEST) {
        correlationHere = ++this.#nextRequest;
        if (this.#nextRequest >= 0xffff_ffff) this.#nextRequest = 0;
        this.#requests.set(correlationHere, { reply: from.inbox, correlation });
      }
      if (this.#blocked || (this.#held && kind !== KIND_REPLY)) {
        this.#queue(from, view, kind, to ?? "", correlationHere);
      } else {
        this.#deliver(from, view, kind, to ?? "", correlationHere);
      }
    }
    // Once per NATS message, not per frame (nothing reads it while its frames are handed on).
    if (last !== -1) from.seq.set(subject, last);
  }

  /** `n` messages of `from` were accepted (or dropped, or lost): credit them back in batches. */
  #accepted(from: RemoteGroup, n: number): void {
    from.owed += n;
    if (from.owed < this.#creditBatch || this.#closed) return;
    const owed = from.owed;
    from.owed = 0;
    const payload = this.#envelopeOnly(KIND_CREDIT, owed);
    try {
      this.#wire.publish(from.inbox, payload, this.#inbox);
    } catch (e) {
      this.#log.warn("credit could not be returned over NATS", { peer: from.name, error: e });
    }
  }

  /** An envelope alone, in bytes of its own (the slab may hold an open batch). */
  #envelopeOnly(kind: number, correlation: number): Uint8Array {
    const out = new Uint8Array(NATS_ENVELOPE_SIZE);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, kind | (this.#tag << 16), true);
    dv.setUint32(4, correlation, true);
    return out;
  }

  #lose(group: string, subject: string, n: number): void {
    this.#lost += n;
    this.#log.warn("messages lost on the NATS cluster (core NATS delivers at most once)", {
      peer: group,
      subject,
      lost: n,
    });
  }

  #queue(
    from: RemoteGroup,
    view: MessageView<Fields>,
    kind: number,
    to: string,
    correlation: number,
    ack?: () => void,
  ): void {
    // JetStream messages are bounded by their consumer's unacknowledged limit: never dropped.
    if (ack === undefined && this.#inbound.length - this.#inboundHead >= this.#inboundCapacity) {
      this.#inboundDropped++;
      if (kind !== KIND_REPLY) this.#accepted(from, 1);
      this.#log.warn("inbound queue full: message from NATS dropped", {
        to,
        messageType: view.type.name,
        capacity: this.#inboundCapacity,
      });
      if (kind === KIND_REQUEST) {
        void this.fail(
          correlation,
          "BUS_MAILBOX_FULL",
          `the inbound queue of '${this.#identity}' is full; ${view.type.name} not delivered`,
        );
      }
      return;
    }
    this.#inbound.push({ from, view, kind, to, correlation, ack });
  }

  #deliver(
    from: RemoteGroup,
    view: MessageView<Fields>,
    kind: number,
    to: string,
    correlation: number,
    ack?: () => void,
  ): void {
    let r: void | Promise<void> = undefined;
    try {
      switch (kind) {
        case KIND_PUBLISH:
          r = this.#bus.deliverPublished(view.type, view);
          break;
        case KIND_SEND:
          r = this.#bus.deliver(this, to, view.type, view, 0);
          break;
        case KIND_REQUEST:
          r = this.#bus.deliver(this, to, view.type, view, correlation);
          break;
        case KIND_REPLY:
          if (
            !(RequestFailed.isView(view)
              ? this.#bus.deliverFailure(correlation, view.code, view.message)
              : this.#bus.deliverReply(correlation, view.type, view))
          ) this.#unmatchedReplies++;
          break;
      }
    } catch (e) {
      this.#refuse(e, view, kind, to);
    }
    if (r === undefined) {
      if (ack !== undefined) ack();
      else if (kind !== KIND_REPLY) this.#accepted(from, 1);
      return;
    }
    this.#blocked = true;
    r.then(
      () => {
        if (ack !== undefined) ack();
        else this.#accepted(from, 1);
        this.#resume();
      },
      (e) => {
        this.#refuse(e, view, kind, to);
        if (ack !== undefined) ack();
        else this.#accepted(from, 1);
        this.#resume();
      },
    );
  }

  #resume(): void {
    this.#blocked = false;
    const q = this.#inbound;
    while (!this.#blocked && this.#inboundHead < q.length) {
      const m = q[this.#inboundHead]!;
      if (this.#held && m.kind !== KIND_REPLY) break;
      q[this.#inboundHead++] = undefined as unknown as Inbound;
      this.#deliver(m.from, m.view, m.kind, m.to, m.correlation, m.ack);
    }
    if (this.#inboundHead === q.length) {
      q.length = 0;
      this.#inboundHead = 0;
    }
  }

  #refuse(error: unknown, view: MessageView<Fields>, kind: number, to: string): void {
    this.#refused++;
    this.#log.warn("a message from NATS was not delivered", {
      kind: KIND_NAMES[kind],
      to,
      messageType: view.type.name,
      code: error instanceof BusError ? error.code : undefined,
      error,
    });
  }

  /** Hands held messages to the bus, in order, and stops holding. Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.#blocked) this.#resume();
  }

  // ---- announcements ---------------------------------------------------------

  #onHello(data: Uint8Array): void {
    let h: Hello;
    try {
      h = JSON.parse(new TextDecoder().decode(data)) as Hello;
    } catch {
      return;
    }
    const g = this.#groups.get(h.g);
    if (g === undefined || this.#closed) return;
    if (h.b === 1) {
      if (h.n !== undefined) this.#tally(g, h.n);
      if (g.instance === h.i) {
        g.routes = { actors: [], types: [], topics: [] };
        this.#reattach();
      }
      return;
    }
    if (g.instance !== h.i) {
      try {
        checkSchemas(this.#registry, this.#identity, h.g, h.s);
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        this.#log.error(e.message, { code: e.code, peer: h.g });
        this.#options.onRefused?.(e);
        return;
      }
      const restarted = g.instance !== undefined;
      g.instance = h.i;
      g.seq.clear();
      g.tallied = false;
      g.credit = this.#window;
      g.owed = 0;
      if (h.r !== 1) this.#hello(1);
      if (restarted) {
        this.#peerRestarts++;
        this.#options.onPeerRestart?.(g.name);
      }
    }
    g.routes = announcementToRoutes({ actors: h.a, topics: h.t }, this.#registry);
    this.#reattach();
    if (h.c === 1) this.#sync(g);
  }

  #reattach(): void {
    const actors = new Set<string>();
    const types = new Set<MessageType>();
    const topics = new Set<string>();
    for (const g of this.#groups.values()) {
      for (const a of g.routes.actors) actors.add(a);
      for (const t of g.routes.types) types.add(t);
      for (const t of g.routes.topics) topics.add(t);
    }
    this.#union = { actors: [...actors], types: [...types], topics: [...topics] };
    this.#typeTargets = new Map();
    this.#lastType = undefined;
    this.#jsSplit = new Map();
    this.#actorTargets = new Map();
    for (const g of this.#groups.values()) {
      for (const a of g.routes.actors) this.#actorTargets.set(a, [g]);
    }
    // Parked messages may wait for a group that is gone or back: look again.
    const room = this.#room;
    this.#room = undefined;
    room?.resolve();
    this.#attached = true;
    this.#bus.attach(this, this.#union);
    this.#options.onRoutes?.();
  }

  /** A group's last numbers: what never arrived of it is lost. */
  #tally(g: RemoteGroup, last: Record<string, number>): void {
    if (g.tallied) return;
    g.tallied = true;
    this.#catchUp(g, last);
    for (const w of [...this.#tallyWaiters]) w();
  }

  /**
   * A group's last numbers per subject, sent after everything it had sent
   * before: what has not arrived by now never will (one connection keeps
   * order). Counts it lost and returns its credit.
   */
  #catchUp(g: RemoteGroup, last: Record<string, number>): void {
    for (const [subject, n] of Object.entries(last)) {
      if (!this.#receives(subject)) continue;
      const seen = g.seq.get(subject) ?? 0;
      if (n > seen) {
        this.#lose(g.name, subject, n - seen);
        g.seq.set(subject, n);
        if (subject !== this.#inbox) this.#accepted(g, n - seen);
      }
    }
  }

  /** This side's last number per subject. */
  #lastNumbers(): Record<string, number> {
    const n: Record<string, number> = {};
    for (const s of this.#sendSubjects.values()) n[s.subject] = s.seq;
    for (const s of this.#publishSubjects.values()) if (s.seq > 0) n[s.subject] = s.seq;
    return n;
  }

  /** Tells group `g` this side's last numbers (after what was sent before). */
  #sync(g: RemoteGroup): void {
    this.#closeBatch();
    const json = new TextEncoder().encode(JSON.stringify(this.#lastNumbers()));
    const out = new Uint8Array(NATS_ENVELOPE_SIZE + json.length);
    out[0] = KIND_SYNC;
    out[2] = this.#tag & 0xff;
    out[3] = this.#tag >> 8;
    out.set(json, NATS_ENVELOPE_SIZE);
    try {
      this.#wire.publish(g.inbox, out, this.#inbox);
    } catch (e) {
      this.#log.warn("sync not published", { peer: g.name, error: e });
    }
  }

  /**
   * The connection came back after a loss: messages in flight either way
   * may be gone. Each side tells the other its last numbers, so losses are
   * counted and credit spent on them returns (a sender out of credit would
   * otherwise wait for a receiver that saw nothing to notice).
   */
  reconnected(): void {
    if (!this.#started || this.#closed) return;
    for (const g of this.#groups.values()) if (g.instance !== undefined) this.#sync(g);
    this.#hello(1, { c: 1 });
  }

  /** Whether this process subscribes to `subject` (its inbox, an actor, a publish subject). */
  #receives(subject: string): boolean {
    if (this.#subs.has(subject)) return true;
    const star = subject.lastIndexOf(".");
    return star > 0 && this.#subs.has(`${subject.slice(0, star)}.*`);
  }

  /**
   * Announces this group's last numbers and that it leaves, then waits up
   * to `timeoutMs` for every announced peer group's: at the end of a run,
   * so what was lost at the tail is counted. Resolves true when every one
   * arrived.
   *
   * A group that receives through JetStream then waits, its consumer still
   * running, until the servers count nothing unacknowledged or undelivered
   * for it (one request when nothing is; at most the consumer's
   * acknowledgement deadline and 2 s more, with a warning if messages are
   * left): a message whose acknowledgement was lost (with a server that
   * died, say) is handed out again after that deadline, skipped as handled
   * and acknowledged, instead of being left for the group's next run.
   */
  async tally(timeoutMs: number): Promise<boolean> {
    const tallied = await this.#tallied(timeoutMs);
    const backlog = this.#js?.wire.backlog;
    if (this.#jsHere && backlog !== undefined && this.#jsStop !== undefined && !this.#closed) {
      await consumerDrained(
        () => backlog.call(this.#js!.wire, this.#identity),
        () => this.#closed,
        this.#log,
        this.#identity,
      );
    }
    return tallied;
  }

  async #tallied(timeoutMs: number): Promise<boolean> {
    await this.flushed().catch(() => {});
    this.#hello(1, { b: 1, n: this.#lastNumbers(), a: [], t: [] });
    this.#byeSent = true;
    await this.#wire.flush().catch(() => {});
    const pending = () =>
      [...this.#groups.values()].some((g) => g.instance !== undefined && !g.tallied);
    if (!pending()) return true;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const check = () => {
      if (!pending()) resolve(true);
    };
    this.#tallyWaiters.add(check);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#tallyWaiters.delete(check);
    }
  }

  /**
   * Stops: tells the peer groups this one leaves, unsubscribes, detaches the peer groups' routes (requests through
   * them fail with `BUS_NO_ROUTE`), counts what is still parked or held as
   * undelivered. Does not close the connection. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    // Peers detach this group's actors (sends to them then fail with BUS_NO_ROUTE, not vanish).
    if (this.#started && !this.#byeSent) this.#hello(1, { b: 1, a: [], t: [] });
    this.#closed = true;
    for (const unsubscribe of this.#subs.values()) unsubscribe();
    this.#subs.clear();
    this.#jsStop?.();
    this.#jsStop = undefined;
    // Never acknowledged: the servers may or may not hold them.
    this.#undelivered += this.#jsPublisher?.close() ?? 0;
    const parked = this.#parked.length - this.#parkedHead;
    if (parked > 0) this.#undelivered += parked;
    const closedError = new TransportError("TRANSPORT_CLOSED", "the NATS peer closed", {
      peer: this.id,
    });
    const room = this.#room;
    this.#room = undefined;
    room?.reject(closedError);
    // Held JetStream messages were not acknowledged: the group's next consumer gets them.
    let held = 0;
    for (let i = this.#inboundHead; i < this.#inbound.length; i++) {
      if (this.#inbound[i]!.ack === undefined) held++;
    }
    if (this.#inbound.length > this.#inboundHead) {
      this.#inboundDropped += held;
      this.#inbound = [];
      this.#inboundHead = 0;
    }
    if (this.#attached) this.#bus.detach(this);
    this.#attached = false;
  }
}

const NO_TARGETS: readonly RemoteGroup[] = [];

function hasCredit(targets: readonly RemoteGroup[]): boolean {
  for (let i = 0; i < targets.length; i++) if (targets[i]!.credit <= 0) return false;
  return true;
}

function takeCredit(targets: readonly RemoteGroup[]): void {
  for (let i = 0; i < targets.length; i++) targets[i]!.credit--;
}

/** A topic as one or more subject tokens: characters NATS gives meaning to become `_`. */
function subjectToken(topic: string): string {
  const t = topic.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/\.{2,}/g, ".").replace(
    /^\.|\.$/g,
    "",
  );
  return t === "" ? "_" : t;
}
