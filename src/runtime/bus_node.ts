/**
 * {@linkcode BusNode}: one process of a split deployment. It joins a local
 * {@linkcode MessageBus} to the buses of other processes: listens, dials,
 * announces what the bus hosts, and attaches what peers announce, so actors
 * anywhere are reachable by name and by subscription.
 *
 * @module
 */
import type { Registry } from "../codec/mod.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import type { MessageBus } from "../bus/message_bus.ts";
import {
  DRAIN_STATUS,
  LinkCredit,
  LinkDrained,
  LinkPeer,
  type LinkPeerOptions,
  RequestFailed,
  routesToAnnouncement,
} from "../bus/link_peer.ts";
import {
  type Announcement,
  Link,
  type LinkHandler,
  type LinkState,
  type OverflowPolicy,
  type ReconnectOptions,
} from "../transport/link.ts";
import { LinkListener, type LinkListenerOptions } from "../transport/listener.ts";
import type { Transport } from "../transport/transport.ts";
import type { TransportLogger } from "../transport/logger.ts";
import { NatsPeer, type NatsPeerJetStream, type NatsWire } from "../bus/nats_peer.ts";
import { RuntimeError } from "./runtime_error.ts";
import { DrainRounds } from "./_drain_rounds.ts";

/**
 * How long a shutting-down node waits for a peer that answered "not shutting
 * down" to start its own drain, in ms: the processes of a deployment get
 * their signals at about the same time, and a report may reach one before
 * its own signal does.
 */
const LIVE_PEER_GRACE_MS = 200;

/** A peer process to dial: the identity it must present, and where it listens. */
export interface DialTarget {
  /** The peer's identity (its process group's name). */
  readonly identity: string;
  /** Its address. */
  readonly transport: Transport;
}

/** Link settings shared by every link of a node (see `LinkOptions` for each default). */
export interface LinkTuning {
  /** Bound of each link's outbound buffer, in bytes. Default: 8 MiB. */
  maxBufferedBytes?: number;
  /** What a full link buffer does. Default: `"wait"` (senders get a promise). */
  overflow?: OverflowPolicy;
  /** Heartbeat interval, in ms. Default: 1000. */
  heartbeatMs?: number;
  /** A peer silent this long is considered gone, in ms. Default: 5000. */
  peerTimeoutMs?: number;
  /** Handshake deadline, in ms. Default: 5000. */
  handshakeTimeoutMs?: number;
  /** Reconnect schedule of dialed links. Default: 50 ms doubling to 5 s, jitter 0.5. */
  reconnect?: ReconnectOptions;
}

/** The process groups a node reaches through a NATS cluster, and its connection to it. */
export interface BusNodeNats {
  /** The connection (a `NatsTransport`). The node does not close it. */
  wire: NatsWire;
  /** The groups reached through it (sorted or not). */
  peers: readonly string[];
  /** Every group of the deployment, the same list in every process (see `NatsPeerOptions.groups`). */
  groups?: readonly string[];
  /** Subject prefix of the deployment. Default: `mycelium`. */
  subjectPrefix?: string;
  /** The servers, for reports. Default: `nats`. */
  address?: string;
  /** The connection's own counters, for reports. Default: none. */
  counters?: () => { reconnects: number; slowConsumers: number };
  /**
   * Subscribes to the connection's events (a `NatsTransport`'s `onEvent`):
   * after a reconnect, both sides exchange their last numbers so losses are
   * counted at once. Default: none (losses are counted at the next message
   * or at the end).
   */
  events?: (listener: (e: { readonly type: string }) => void) => () => void;
  /** Bytes published and not yet confirmed by a server. Default: 8 MiB. */
  maxPendingBytes?: number;
  /** What a full client buffer does. Default: the links' policy (`wait`). */
  overflow?: OverflowPolicy;
  /** Groups reached through JetStream (acknowledged, deduplicated). Default: none. */
  jetstream?: NatsPeerJetStream;
}

/** Options of {@linkcode BusNode.start}. */
export interface BusNodeOptions {
  /** Groups reached through a NATS cluster instead of links. Default: none. */
  nats?: BusNodeNats;
  /** The local bus. The node does not close it. */
  bus: MessageBus;
  /** This process's identity, unique in the deployment (its process group's name). */
  identity: string;
  /**
   * Every message type crossing a link from or to this process. The
   * runtime's own types (`RequestFailed` 0xFEFF, `LinkCredit` 0xFEFC,
   * `LinkDrained` 0xFEFB) are added when missing; ids 0xFEF0 to 0xFEFF are
   * reserved.
   */
  registry: Registry;
  /** Addresses to accept peers on. Default: none. */
  listen?: readonly Transport[];
  /** Peers to dial (each redialed with backoff until the node closes). Default: none. */
  dial?: readonly DialTarget[];
  /** Shared secret every peer must prove (HMAC). Default: none. */
  key?: string | Uint8Array;
  /** Where the node and its links log. Default: links log to stderr, the node nowhere. */
  logger?: Logger;
  /** Closes the node when aborted. */
  signal?: AbortSignal;
  /** Link settings. */
  link?: LinkTuning;
  /** Per-peer settings (inbound queue, parked outbound messages). */
  peer?: LinkPeerOptions;
  /**
   * Hold what peers send (replies excepted) until {@linkcode BusNode.release}:
   * for a process that must reach its own downstream before it handles
   * anything. A restarted process needs it: its peers kept buffering for it
   * and resend at once, before it could reach the actors it sends to. Held
   * messages wait in each peer's bounded inbound queue and earn no credit,
   * so senders soon wait (see `LinkPeer.hold`). Messages still held when the
   * node closes are counted as dropped. Default: false.
   */
  holdInbound?: boolean;
}

/** Options of {@linkcode BusNode.ready}. */
export interface ReadyOptions {
  /** Stops waiting (rejects with `RUNTIME_ABORTED`). */
  signal?: AbortSignal;
  /** Gives up after this long, in ms (rejects with `RUNTIME_NOT_READY`). Default: no limit. */
  timeoutMs?: number;
}

/** Options of {@linkcode BusNode.close}. */
export interface BusNodeCloseOptions {
  /** How long each link may take to have its buffer acknowledged, in ms. Default: 5000. */
  drainMs?: number;
}

/** Counters of one link of a node. */
export interface LinkReport {
  /** The peer's identity. */
  readonly peer: string;
  /** The transport's address. */
  readonly address: string;
  /** `open`, `away`, `connecting` or `closed`. */
  readonly state: LinkState;
  /** Messages written to the link (not counting the runtime's credit frames). */
  readonly sent: number;
  /** Messages received from it (not counting credit frames). */
  readonly received: number;
  /** Messages dropped: by the link's overflow policy, or inbound for a full queue. */
  readonly dropped: number;
  /**
   * Messages lost at the end: still buffered when the link closed for good,
   * or received after this process's bus had closed (refused, also counted
   * in `refused`).
   */
  readonly undelivered: number;
  /** Inbound messages the bus refused (no such actor or handler). */
  readonly refused: number;
  /** Replies that matched no pending request (late, or meant for an earlier run of this process). */
  readonly unmatchedReplies: number;
  /** Connections after the first. */
  readonly reconnects: number;
  /** Of those, connections from a new instance of the peer (it restarted). */
  readonly peerRestarts: number;
  /** Data frames written once (the runtime's credit messages included; link control frames not). */
  readonly frames: number;
  /** Bytes of those frames. */
  readonly bytes: number;
  /** Frames written again after a reconnect (the peer had not acknowledged them). */
  readonly resent: number;
  /**
   * Messages peers sent that never arrived (core NATS delivers at most
   * once; counted from gaps in each sender's numbering). 0 on links.
   */
  readonly lost?: number;
  /** Slow-consumer events of the NATS connection. 0 on links. */
  readonly slowConsumers?: number;
}

interface ReadyWaiter {
  readonly names: readonly string[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * One process's bus, joined to other processes' buses over links.
 *
 * Spawn the actors other processes send to before `start` (a restarted
 * process then gets what was buffered for them the moment it reconnects),
 * then `start`, then `await node.ready([...])` for the actors this process
 * sends to before producing. Close the bus first (actors drain, still
 * sending), then the node (link buffers drain). While the bus closes, the
 * node keeps it open until the linked processes that shut down too have
 * finished sending to it (drain rounds over the links, within the bus's
 * close deadline; a peer that keeps running is waited for at most 200 ms),
 * so processes stopped together lose nothing in flight between them.
 *
 * A process that may be restarted mid-run starts with `holdInbound` and calls
 * {@linkcode BusNode.release} once `ready`, so it handles nothing its peers
 * resend before it can pass results on; its peers hear of the restart through
 * {@linkcode BusNode.onPeerRestart}. Delivery across a crash is at least once:
 * what the dead instance had not acknowledged is resent, what it had
 * acknowledged but not handled is lost with it.
 *
 * @example Two nodes in one process over a Unix socket
 * ```ts
 * import { MessageBus } from "../bus/message_bus.ts";
 * import { on } from "../actor/mod.ts";
 * import { defineMessage, field, Registry } from "../codec/mod.ts";
 * import { UnixTransport } from "../transport/unix.ts";
 * import { BusNode } from "./bus_node.ts";
 *
 * const Ping = defineMessage({ id: 1, name: "Ping", fields: { n: field.u32() } });
 * const dir = await Deno.makeTempDir();
 * const got = Promise.withResolvers<number>();
 * const a = new MessageBus();
 * a.spawn("pong", { handlers: [on(Ping, (m) => got.resolve(m.n))] });
 * const nodeA = await BusNode.start({
 *   bus: a, identity: "a", registry: new Registry([Ping]),
 *   listen: [new UnixTransport({ path: `${dir}/a.sock` })],
 * });
 * const b = new MessageBus();
 * const nodeB = await BusNode.start({
 *   bus: b, identity: "b", registry: new Registry([Ping]),
 *   dial: [{ identity: "a", transport: nodeA.transports[0]! }],
 * });
 * await nodeB.ready(["pong"]);
 * await b.send("pong", Ping, { n: 7 });
 * if (await got.promise !== 7) throw new Error("not delivered");
 * await b.close();
 * await nodeB.close();
 * await a.close();
 * await nodeA.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BusNode implements AsyncDisposable {
  readonly #bus: MessageBus;
  readonly #identity: string;
  readonly #registry: Registry;
  readonly #log: Logger;
  readonly #peerOptions: LinkPeerOptions;
  readonly #stop = new AbortController();
  readonly #peers = new Map<Link, LinkPeer>();
  readonly #dialed = new Set<Link>();
  readonly #dials: Promise<void>[] = [];
  readonly #waiters = new Set<ReadyWaiter>();
  /** Links closed for good, reported when asked (their peer may still count refusals). */
  readonly #finished: { link: Link; peer: LinkPeer }[] = [];
  readonly #restartListeners = new Set<(peer: string) => void>();
  #heldCount = 0;
  readonly #linkOptions: LinkListenerOptions;
  #listeners: LinkListener[] = [];
  #unlisten: () => void = () => {};
  #forget: () => void = () => {};
  #announcement: Announcement = { actors: [], topics: [] };
  #announcementKey = "";
  #announceQueued = false;
  #failure: RuntimeError | undefined;
  #held: boolean;
  #closing: Promise<void> | undefined;
  #lastLink: Link | undefined;
  #lastPeer: LinkPeer | undefined;
  #nats: NatsPeer | undefined;
  #natsOptions: BusNodeNats | undefined;
  #stopNatsEvents: () => void = () => {};
  #unBeforeStop: () => void = () => {};
  #unJoin: () => void = () => {};
  #joinSent = false;
  /** Where this node is in the drain at the bus's close (see `#drainWithPeers`). */
  #drainState: "live" | "draining" | "finished" = "live";
  #drain: DrainRounds | undefined;
  /** Round reports peers sent before this node began to drain, by peer. */
  readonly #early = new Map<string, { round: number; count: bigint }[]>();
  /** Peers that said they finished draining (they report no more). */
  readonly #finishedPeers = new Set<string>();
  /** Peers that said they began to drain. */
  readonly #joinedPeers = new Set<string>();
  /** Peers that said they are not shutting down: each leaves the rounds unless it starts soon. */
  readonly #graceTimers = new Map<string, ReturnType<typeof setTimeout>>();

  private constructor(options: BusNodeOptions) {
    this.#bus = options.bus;
    this.#identity = options.identity;
    this.#registry = options.registry;
    this.#log = options.logger ?? NULL_LOGGER;
    this.#peerOptions = { logger: this.#log, ...options.peer };
    this.#held = options.holdInbound ?? false;
    const nats = options.nats;
    this.#natsOptions = nats;
    if (nats !== undefined) {
      const overflow = nats.overflow ?? options.link?.overflow;
      this.#nats = new NatsPeer(this.#bus, nats.wire, this.#registry, {
        identity: this.#identity,
        peers: nats.peers,
        ...(nats.groups === undefined ? {} : { groups: nats.groups }),
        logger: this.#log,
        held: this.#held,
        ...(nats.subjectPrefix === undefined ? {} : { subjectPrefix: nats.subjectPrefix }),
        ...(nats.maxPendingBytes === undefined ? {} : { maxPendingBytes: nats.maxPendingBytes }),
        ...(overflow === undefined ? {} : { overflow }),
        ...(nats.jetstream === undefined ? {} : { jetstream: nats.jetstream }),
        onPeerRestart: (group) => this.#restarted(group),
        onRefused: (e) =>
          this.#fail(
            new RuntimeError(
              "RUNTIME_DIAL_FAILED",
              `'${this.#identity}' refuses a group on NATS: ${e.message}`,
              {
                peer: e.peer ?? "nats",
                cause: e,
              },
            ),
          ),
        onRoutes: () => this.#checkWaiters(),
      });
      const peer = this.#nats;
      const off = nats.events?.((e) => {
        if (e.type === "reconnect") peer.reconnected();
      });
      if (off !== undefined) this.#stopNatsEvents = off;
    }
    const handler: LinkHandler = {
      message: (view, route, link) => this.#peerOf(link).receive(view, route),
      announce: (a, link) => this.#peerOf(link).announced(a),
      up: (link, peerRestarted) => this.#up(link, peerRestarted),
      down: (link) => this.#drain?.leave(link.peer),
      closed: (link) => this.#closed(link),
    };
    const t = options.link ?? {};
    this.#linkOptions = {
      registry: this.#registry,
      identity: this.#identity,
      handler,
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.logger === undefined ? {} : { logger: options.logger as TransportLogger }),
      ...(t.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: t.maxBufferedBytes }),
      ...(t.overflow === undefined ? {} : { overflow: t.overflow }),
      ...(t.heartbeatMs === undefined ? {} : { heartbeatMs: t.heartbeatMs }),
      ...(t.peerTimeoutMs === undefined ? {} : { peerTimeoutMs: t.peerTimeoutMs }),
      ...(t.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: t.handshakeTimeoutMs }),
    };
  }

  /**
   * Starts listening and dialing; resolves once every listener is bound
   * (dials go on in the background: see {@linkcode BusNode.ready}).
   *
   * @throws {RuntimeError} `RUNTIME_PLAN` when the registry holds another
   *   type under a reserved id.
   * @throws {TransportError} when a listener cannot bind.
   */
  static async start(options: BusNodeOptions): Promise<BusNode> {
    for (const type of [RequestFailed, LinkCredit, LinkDrained]) {
      const reserved = options.registry.get(type.id);
      if (reserved === undefined) options.registry.add(type);
      else if (reserved !== type) {
        throw new RuntimeError(
          "RUNTIME_PLAN",
          `message type '${reserved.name}' uses id ${type.id} (0x${type.id.toString(16)}), ` +
            `which Mycelium reserves (0xFEF0 to 0xFEFF); give it another id`,
        );
      }
    }
    const node = new BusNode(options);
    node.#unBeforeStop = options.bus.beforeStop((ms) => node.#drainWithPeers(ms));
    // The bus began closing: peers in their rounds learn now that this node will drain too
    // (once its actors are idle), not only when it is idle, so they wait for it.
    const closing = () => node.#join();
    options.bus.signal.addEventListener("abort", closing, { once: true });
    node.#unJoin = () => options.bus.signal.removeEventListener("abort", closing);
    node.#refreshAnnouncement();
    node.#unlisten = options.bus.onRoutesChange(() => node.#routesChanged());
    try {
      for (const t of options.listen ?? []) {
        node.#listeners.push(await LinkListener.listen(t, node.#linkOptions));
      }
    } catch (e) {
      await node.close({ drainMs: 0 });
      throw e;
    }
    node.#nats?.start();
    const reconnect = options.link?.reconnect;
    for (const target of options.dial ?? []) {
      node.#dials.push(node.#dial(target, reconnect));
    }
    if (options.signal !== undefined) {
      const signal = options.signal;
      const abort = () => void node.close().catch(() => {});
      if (signal.aborted) abort();
      else {
        signal.addEventListener("abort", abort, { once: true });
        node.#forget = () => signal.removeEventListener("abort", abort);
      }
    }
    return node;
  }

  /** This process's identity. */
  get identity(): string {
    return this.#identity;
  }

  /** Where this node listens (with real ports when it listened on port 0). */
  get transports(): Transport[] {
    return this.#listeners.map((l) => l.transport);
  }

  /** Whether `actor` is reachable now: hosted here, or announced by a linked process. */
  routable(actor: string): boolean {
    if (this.#bus.ref(actor) !== undefined) return true;
    if (this.#nats?.routes.actors.includes(actor)) return true;
    for (const peer of this.#peers.values()) if (peer.routes.actors.includes(actor)) return true;
    return false;
  }

  /**
   * Resolves once every actor in `actors` is reachable (local, or announced
   * by a linked process): start producers only then.
   *
   * @throws {RuntimeError} `RUNTIME_NOT_READY` at the deadline (naming the
   *   missing actors), `RUNTIME_ABORTED` (signal, or the node closed),
   *   `RUNTIME_DIAL_FAILED` (a peer refused us for good).
   */
  ready(actors: readonly string[], options: ReadyOptions = {}): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    if (actors.every((a) => this.routable(a))) return Promise.resolve();
    const { signal, timeoutMs } = options;
    if (signal?.aborted) {
      return Promise.reject(
        new RuntimeError("RUNTIME_ABORTED", "waiting for actors was aborted", {
          cause: signal.reason,
        }),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      this.#waiters.delete(waiter);
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const waiter: ReadyWaiter = {
      names: actors,
      resolve: () => {
        cleanup();
        resolve();
      },
      reject: (e) => {
        cleanup();
        reject(e);
      },
    };
    const onAbort = () =>
      waiter.reject(
        new RuntimeError("RUNTIME_ABORTED", "waiting for actors was aborted", {
          cause: signal?.reason,
        }),
      );
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        const missing = actors.filter((a) => !this.routable(a));
        waiter.reject(
          new RuntimeError(
            "RUNTIME_NOT_READY",
            `after ${timeoutMs} ms these actors are still unreachable from '${this.#identity}': ` +
              `${missing.join(", ")} (is their process running and linked?)`,
            { actors: missing },
          ),
        );
      }, timeoutMs);
    }
    this.#waiters.add(waiter);
    return promise;
  }

  /**
   * Calls `listener` with a peer's identity whenever a new instance of that
   * peer links after an earlier one (it restarted). It runs before the new
   * instance's announcement is read, so the peer's actors are still routable:
   * what the listener sends them reaches the new instance (held there until
   * it is ready, if it holds). For re-sending what the dead instance had
   * acknowledged but may not have acted on. Returns the unsubscribe function.
   */
  onPeerRestart(listener: (peer: string) => void): () => void {
    this.#restartListeners.add(listener);
    return () => this.#restartListeners.delete(listener);
  }

  /**
   * Hands peers' messages to the bus from now on: what was held (see
   * `holdInbound`) is delivered first, in order. Idempotent.
   */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    for (const peer of this.#peers.values()) {
      this.#heldCount += peer.stats().inboundQueued;
      peer.release();
    }
    if (this.#nats !== undefined) {
      this.#heldCount += this.#nats.stats().inboundQueued;
      this.#nats.release();
    }
  }

  /**
   * Waits until every open link's buffer has been acknowledged by its peer,
   * or `timeoutMs` passed: before a group that finished a job closes, so
   * the last messages are known delivered while every peer still runs.
   * Resolves true when everything was acknowledged.
   */
  async settled(timeoutMs = 5000): Promise<boolean> {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), timeoutMs);
    try {
      // Over NATS, every group tells its last numbers: what never arrived is counted as lost.
      const tallied = this.#nats?.tally(timeoutMs) ?? Promise.resolve(true);
      await Promise.all(
        [...this.#peers.keys()].filter((l) => l.state === "open").map((l) =>
          l.drained(stop.signal)
        ),
      );
      return await tallied;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Messages that were held when {@linkcode BusNode.release} delivered them. */
  get heldCount(): number {
    return this.#heldCount;
  }

  /** Whether peers' messages are being held (`holdInbound`, until {@linkcode BusNode.release}). */
  get held(): boolean {
    return this.#held;
  }

  /** Counters of every link: those closed for good first, then the live ones. */
  stats(): LinkReport[] {
    return [
      ...this.#finished.map(({ link, peer }) => report(link, peer)),
      ...[...this.#peers].map(([link, peer]) => report(link, peer)),
      ...(this.#nats === undefined ? [] : [this.#natsReport(this.#nats)]),
    ];
  }

  /**
   * Drains and closes every link (each waits up to `drainMs` for its buffer
   * to be acknowledged), then the listeners. Peers' routes are detached.
   * Idempotent. Close the bus before, so actors can still send while draining.
   */
  close(options: BusNodeCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.drainMs ?? 5000);
    return this.#closing;
  }

  /** `close()` with the default drain time. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(drainMs: number): Promise<void> {
    this.#unlisten();
    this.#unBeforeStop();
    this.#unJoin();
    this.#forget();
    const closedError = this.#closedError();
    for (const w of [...this.#waiters]) w.reject(closedError);
    // Messages parked for room go into the link buffers first (within the drain time).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([
        ...[...this.#peers.values()].map((p) => p.flushed().catch(() => {})),
        this.#nats?.flushed().catch(() => {}),
      ]),
      new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, drainMs))),
    ]);
    clearTimeout(timer);
    // Dialed links first: one still reconnecting to a peer that already left then ends
    // quietly instead of giving up with an error. Dials not yet linked are aborted after.
    await Promise.all([...this.#dialed].map((l) => l.close({ drainMs })));
    this.#stop.abort();
    await Promise.all(this.#dials);
    for (const l of this.#listeners) {
      await Promise.all([...l.links.values()].map((link) => link.close({ drainMs })));
    }
    await Promise.all(this.#listeners.map((l) => l.close()));
    for (const peer of this.#peers.values()) peer.closed();
    this.#stopNatsEvents();
    this.#nats?.close();
  }

  #natsReport(peer: NatsPeer): LinkReport {
    const p = peer.stats();
    const c = this.#natsOptions?.counters?.() ?? { reconnects: 0, slowConsumers: 0 };
    return {
      peer: "nats",
      address: this.#natsOptions?.address ?? "nats",
      state: this.#closing === undefined ? "open" : "closed",
      sent: p.sent,
      received: p.received,
      dropped: p.dropped + p.inboundDropped + p.lost,
      undelivered: p.undelivered,
      refused: p.refused,
      unmatchedReplies: p.unmatchedReplies,
      reconnects: c.reconnects,
      peerRestarts: p.peerRestarts,
      frames: p.sent,
      bytes: p.bytes,
      // JetStream publishes sent again after no acknowledgement came (stored once by id).
      resent: p.retried,
      lost: p.lost,
      slowConsumers: c.slowConsumers,
    };
  }

  #closedError(): RuntimeError {
    return new RuntimeError("RUNTIME_ABORTED", `node '${this.#identity}' is closing`);
  }

  async #dial(target: DialTarget, reconnect: ReconnectOptions | undefined): Promise<void> {
    let link: Link;
    try {
      link = await Link.connect(target.transport, {
        ...this.#linkOptions,
        signal: this.#stop.signal,
        ...(reconnect === undefined ? {} : { reconnect }),
      });
    } catch (e) {
      if (this.#stop.signal.aborted) return;
      this.#fail(
        new RuntimeError(
          "RUNTIME_DIAL_FAILED",
          `'${this.#identity}' cannot link to '${target.identity}' at ${target.transport.address}: ${
            e instanceof Error ? e.message : String(e)
          }`,
          { peer: target.identity, cause: e },
        ),
      );
      return;
    }
    if (link.peer !== target.identity) {
      this.#fail(
        new RuntimeError(
          "RUNTIME_DIAL_FAILED",
          `${target.transport.address} is '${link.peer}', expected '${target.identity}': ` +
            `check the topology's addresses`,
          { peer: target.identity },
        ),
      );
      await link.close({ drainMs: 0 });
      return;
    }
    if (this.#stop.signal.aborted || this.#closing !== undefined) {
      // The node began closing while this dial connected: `close` no longer looks for it.
      await link.close({ drainMs: 0 });
      return;
    }
    this.#dialed.add(link);
  }

  #fail(error: RuntimeError): void {
    this.#log.error(error.message, { code: error.code, peer: error.peer });
    this.#failure ??= error;
    for (const w of [...this.#waiters]) w.reject(error);
  }

  #peerOf(link: Link): LinkPeer {
    if (link === this.#lastLink) return this.#lastPeer!;
    let peer = this.#peers.get(link);
    if (peer === undefined) {
      peer = new LinkPeer(this.#bus, link, this.#registry, {
        ...this.#peerOptions,
        held: this.#held,
        onDrained: (status, round, count) => this.#peerDrained(link, status, round, count),
      });
      this.#peers.set(link, peer);
    }
    this.#lastLink = link;
    this.#lastPeer = peer;
    return peer;
  }

  #up(link: Link, peerRestarted: boolean): void {
    this.#peerOf(link).up();
    link.announce(this.#announcement);
    if (!peerRestarted) return;
    // What the previous instance said of its drain is not what this one does.
    this.#forgetDrain(link.peer);
    this.#restarted(link.peer);
  }

  /** Drops what `peer` said of its drain (its process ended, or a new instance replaced it). */
  #forgetDrain(peer: string): void {
    this.#finishedPeers.delete(peer);
    this.#joinedPeers.delete(peer);
    this.#early.delete(peer);
  }

  #restarted(peer: string): void {
    this.#log.warn("a linked process restarted: what it had received but not handled is lost", {
      peer,
    });
    for (const listener of [...this.#restartListeners]) {
      try {
        listener(peer);
      } catch (e) {
        this.#log.error("a peer-restart listener threw", { peer, error: e });
      }
    }
  }

  #closed(link: Link): void {
    const peer = this.#peers.get(link);
    if (peer === undefined) return;
    // Out of the map first: detaching announces the change, and routable() must see it.
    this.#log.debug("link closed for good", { peer: link.peer });
    this.#finished.push({ link, peer });
    this.#peers.delete(link);
    this.#drain?.leave(link.peer);
    // Its process is gone for this node: a later link with that identity starts afresh.
    if (![...this.#peers.keys()].some((l) => l.peer === link.peer)) this.#forgetDrain(link.peer);
    peer.closed();
    if (this.#lastLink === link) {
      this.#lastLink = undefined;
      this.#lastPeer = undefined;
    }
    this.#checkWaiters();
  }

  /**
   * Runs while the bus closes, after its mailboxes drained and before its
   * actors stop: drain rounds with every linked peer that shuts down too,
   * so what they still send here (results of what this process sent them,
   * the last messages of their producers) is delivered before the bus
   * refuses it. Each round: wait until the bus is idle, then tell every peer
   * how many messages this node has taken from links so far (behind
   * everything sent before, links keep order); once two rounds in a row
   * show the same counts here and at every peer, nothing is in flight
   * between them. A peer that is not shutting down leaves the rounds after
   * a short grace; one that leaves or whose link goes down is not waited
   * for. Ends at `timeoutMs` at the latest. (Exact for a full mesh of
   * links, what the runtime plans; NATS peers do not take part.) Resolves
   * false when the rounds did not agree before `timeoutMs`.
   */
  async #drainWithPeers(timeoutMs: number): Promise<boolean> {
    if (this.#closing !== undefined || this.#drainState !== "live" || timeoutMs <= 0) return true;
    this.#drainState = "draining";
    const peers = [...this.#peers.keys()]
      .filter((l) => l.state === "open" && !this.#finishedPeers.has(l.peer))
      .map((l) => l.peer);
    const rounds = new DrainRounds(this.#identity, peers);
    this.#drain = rounds;
    this.#log.debug("drain rounds begin", { peers });
    for (const [peer, reports] of this.#early) {
      for (const r of reports) rounds.record(r.round, peer, r.count);
    }
    this.#early.clear();
    const stop = Promise.withResolvers<void>();
    const timer = setTimeout(stop.resolve, timeoutMs);
    let agreed = false;
    try {
      if (peers.length > 0) {
        this.#join();
        agreed = await rounds.run({
          idle: () => this.#quiet(stop.promise),
          handled: () => this.#acceptedCount(),
          // A link that went away with messages parked would hold the report: not past `stop`.
          publish: (round, count) =>
            Promise.race([this.#tellPeers(DRAIN_STATUS.round, round, count), stop.promise]),
          stopped: stop.promise,
        });
      }
    } finally {
      clearTimeout(timer);
      this.#drainState = "finished";
      this.#drain = undefined;
      for (const t of this.#graceTimers.values()) clearTimeout(t);
      this.#graceTimers.clear();
      // Peers still in their rounds stop waiting for this node: those that began too late to
      // take part (or all, when the rounds did not agree). Those that agreed end at the same
      // round as this node and may be gone: nothing is written to them (a frame their process
      // never acknowledged would count as undelivered).
      const agreedWith = new Set(agreed ? rounds.peers : []);
      void this.#tellPeers(DRAIN_STATUS.finished, 0, 0n, (peer) => !agreedWith.has(peer));
    }
    return agreed || peers.length === 0;
  }

  /** Tells the peers, once, that this node drains: those in their rounds wait for it. */
  #join(): void {
    if (this.#joinSent || this.#closing !== undefined || this.#drainState === "finished") return;
    this.#joinSent = true;
    void this.#tellPeers(DRAIN_STATUS.joined, 0, 0n);
  }

  /**
   * Resolves once the bus is idle and no link is handing it anything, with
   * the messages taken from links at that moment (or at `stop`). A link
   * waiting on a full mailbox may hand the bus its next message between
   * the bus's idle and this check: the check runs again until no message
   * was taken in between, and the count is taken in that same turn.
   */
  async #quiet(stop: Promise<void>): Promise<bigint | void> {
    let stopped = false;
    void stop.then(() => stopped = true);
    while (!stopped) {
      const before = this.#acceptedCount();
      await Promise.race([this.#bus.idle(), stop]);
      if (stopped) return;
      if (!this.#delivering()) {
        const after = this.#acceptedCount();
        if (after === before) return after;
        continue;
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 1)), stop]);
    }
  }

  /** Peers of every link, those closed for good included (they hand over what they queued). */
  #allPeers(): LinkPeer[] {
    return [...this.#peers.values(), ...this.#finished.map(({ peer }) => peer)];
  }

  /** Whether a link, open or closed, is still handing the bus messages. */
  #delivering(): boolean {
    return this.#allPeers().some((p) => p.delivering);
  }

  /** Messages this node has taken from links so far (the drain rounds' count). */
  #acceptedCount(): bigint {
    let n = 0;
    for (const peer of this.#allPeers()) n += peer.accepted;
    return BigInt(n);
  }

  /** Writes a drain frame to every open link (to `to` peers only, if given). */
  async #tellPeers(
    status: number,
    round: number,
    count: bigint,
    to: (peer: string) => boolean = () => true,
  ): Promise<void> {
    await Promise.all(
      [...this.#peers].filter(([l]) => l.state === "open" && to(l.peer)).map(([, peer]) =>
        peer.drained(status, round, count).catch(() => {})
      ),
    );
  }

  /** A peer's drain frame. */
  #peerDrained(link: Link, status: number, round: number, count: bigint): void {
    const peer = link.peer;
    this.#log.debug("drain frame", { peer, status, round, count });
    if (status === DRAIN_STATUS.round || status === DRAIN_STATUS.joined) {
      if (this.#drainState === "draining") {
        clearTimeout(this.#graceTimers.get(peer));
        this.#graceTimers.delete(peer);
        this.#joinedPeers.add(peer);
        // Recorded only from a peer still in the rounds (the rounds ignore the others).
        if (status === DRAIN_STATUS.round) this.#drain?.record(round, peer, count);
        return;
      }
      if (status === DRAIN_STATUS.joined) {
        this.#joinedPeers.add(peer);
        return;
      }
      // A bus already closing (its actors not yet idle, e.g. a producer still running) drains
      // as soon as they are: the peer waits for it, up to its deadline.
      const answer = this.#drainState === "finished"
        ? DRAIN_STATUS.finished
        : this.#bus.signal.aborted
        ? DRAIN_STATUS.joined
        : DRAIN_STATUS.live;
      if (this.#drainState === "live") {
        // This node may begin its own drain in a moment: keep the report for it.
        const reports = this.#early.get(peer) ?? [];
        reports.push({ round, count });
        this.#early.set(peer, reports);
        // Answered once per drain of the peer (its first round).
        if (round !== 1) return;
      }
      void this.#peerOf(link).drained(answer, 0, 0n).catch(() => {});
      return;
    }
    if (status === DRAIN_STATUS.finished) {
      this.#finishedPeers.add(peer);
      this.#early.delete(peer);
      this.#drain?.leave(peer);
      return;
    }
    if (
      status === DRAIN_STATUS.live && this.#drain !== undefined && !this.#graceTimers.has(peer) &&
      !this.#joinedPeers.has(peer)
    ) {
      const rounds = this.#drain;
      this.#graceTimers.set(
        peer,
        setTimeout(() => {
          this.#graceTimers.delete(peer);
          rounds.leave(peer);
        }, LIVE_PEER_GRACE_MS),
      );
    }
  }

  #routesChanged(): void {
    this.#checkWaiters();
    if (this.#announceQueued) return;
    this.#announceQueued = true;
    // Several spawns in a row make one announcement.
    queueMicrotask(() => {
      this.#announceQueued = false;
      if (this.#closing !== undefined) return;
      this.#nats?.routesChanged();
      if (!this.#refreshAnnouncement()) return;
      for (const link of this.#peers.keys()) {
        if (link.state !== "closed") link.announce(this.#announcement);
      }
    });
  }

  /** Recomputes what to announce; true when it changed. */
  #refreshAnnouncement(): boolean {
    const a = routesToAnnouncement(this.#bus.hostedRoutes());
    const key = `${a.actors.join("\n")}\0${a.topics.join("\n")}`;
    if (key === this.#announcementKey) return false;
    this.#announcementKey = key;
    this.#announcement = a;
    // Links a listener accepts later start with it.
    this.#linkOptions.announcement = a;
    return true;
  }

  #checkWaiters(): void {
    for (const w of [...this.#waiters]) {
      if (w.names.every((a) => this.routable(a))) w.resolve();
    }
  }
}

function report(link: Link, peer: LinkPeer): LinkReport {
  const l = link.stats;
  const p = peer.stats();
  return {
    peer: link.peer,
    address: link.transport.address,
    state: link.state,
    sent: l.sent - p.creditFramesSent - p.drainFramesSent,
    received: l.received - p.creditFramesReceived - p.drainFramesReceived,
    dropped: l.dropped + p.inboundDropped,
    undelivered: l.undelivered + p.refusedClosed,
    refused: p.refused,
    unmatchedReplies: p.unmatchedReplies,
    reconnects: l.reconnects,
    peerRestarts: l.peerRestarts,
    ...link.written,
  };
}
