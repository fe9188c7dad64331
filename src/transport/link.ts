/**
 * A link: one logical connection between two processes, carrying frames both
 * ways, that outlives the sockets under it.
 *
 * @module
 */
import {
  type Fields,
  FrameSplitter,
  type MessageType,
  type MessageView,
  type Registry,
} from "../codec/mod.ts";
import { FIRST_CONTROL_TYPE_ID, HEADER_OFFSET } from "../codec/wire.ts";
import {
  Announce,
  ANNOUNCE_NAMES,
  ANNOUNCE_PRESENCE,
  Close,
  Envelope,
  ENVELOPE_SIZE,
  ErrorFrame,
  FLAG_ACK_REQUEST,
  FLAG_ROUTED,
  Heartbeat,
} from "./_control.ts";
import {
  handshake,
  type HandshakeResult,
  importKey,
  isPeerError,
  newBootId,
  peerError,
  type PeerHello,
  type ResumePoint,
  sendError,
  writeAll,
} from "./_handshake.ts";
import { Outbox } from "./_outbox.ts";
import { silentLogger, type TransportLogger } from "./logger.ts";
import type { OverflowPolicy } from "../overflow_policy.ts";
import type { ByteStream, Transport } from "./transport.ts";
import { TransportError, type TransportErrorCode } from "./transport_error.ts";

export type { OverflowPolicy } from "../overflow_policy.ts";

/** How a routed message is addressed. */
export type RouteKind = "publish" | "send" | "request" | "reply";

/** Where an outbound message goes. Without one, a message is published on its type's topic. */
export interface OutboundRoute {
  /** `publish` (to a topic), `send` (to an actor), `request` or `reply`. */
  readonly kind: RouteKind;
  /** The actor (send, request, reply) or topic (publish). Default for publish: the type's topic. */
  readonly to?: string;
  /** The sending actor, if the receiver should know it. */
  readonly from?: string;
  /** Request/reply correlation id (u32). Default: 0. */
  readonly correlation?: number;
}

/**
 * Where an inbound message goes. The link hands the SAME object to every
 * call: read it during the call, don't keep it.
 */
export interface InboundRoute {
  /** How it was addressed. */
  readonly kind: RouteKind;
  /** The actor or topic it is for (for a plain publish: its type's topic). */
  readonly to: string;
  /** The sending actor, or `""` when not given. */
  readonly from: string;
  /** Request/reply correlation id, or 0. */
  readonly correlation: number;
}

/** What a process hosts and subscribes to, as announced to its peers. */
export interface Announcement {
  /** Names of the actors the process hosts. */
  readonly actors: readonly string[];
  /** Topics the process subscribes to. */
  readonly topics: readonly string[];
}

/** Receives what links deliver. Methods run synchronously on the link's read loop. */
export interface LinkHandler {
  /**
   * A message arrived. `view` is zero-copy over the link's read slab (which is
   * never rewritten, so the view stays valid); `route` is reused per call.
   */
  message(view: MessageView<Fields>, route: InboundRoute, link: Link): void;
  /** The peer announced (or changed) what it hosts and subscribes to. */
  announce?(announcement: Announcement, link: Link): void;
  /**
   * A connection finished its handshake (first time, or after a reconnect).
   * `peerRestarted` is true when a new instance of the peer connected after
   * an earlier one: it holds nothing of what its predecessor received (frames
   * that one had not acknowledged are resent; what it had acknowledged is
   * gone with it).
   */
  up?(link: Link, peerRestarted: boolean): void;
  /** The connection dropped; the link will reconnect (or wait for the peer to). */
  down?(link: Link, error: TransportError): void;
  /** The link closed for good; `error` is undefined for an orderly close. */
  closed?(link: Link, error: TransportError | undefined): void;
}

/** Reconnect schedule of a dialing link: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** First delay, in ms. Default: 50. */
  initialMs?: number;
  /** Largest delay, in ms. Default: 5000. */
  maxMs?: number;
  /** Fraction of each delay that is random (0 to 1). Default: 0.5. */
  jitter?: number;
  /**
   * Stop retrying when no connection succeeded for this long, in ms, counted
   * from `Link.connect` or from when the last connection dropped: the link
   * then closes with a `TRANSPORT_CONNECT` error naming the last failure (and
   * what it still held counts as `undelivered`). `Infinity` retries until
   * `close` or the `signal`. Default: 60000 (one minute).
   */
  giveUpMs?: number;
}

/** Defaults of {@linkcode ReconnectOptions}. */
export const RECONNECT_DEFAULTS: Readonly<Required<ReconnectOptions>> = Object.freeze({
  initialMs: 50,
  maxMs: 5000,
  jitter: 0.5,
  giveUpMs: 60_000,
});

/** Options shared by {@linkcode Link.connect} and `LinkListener.listen`. */
export interface LinkOptions {
  /** The message types this process sends or receives; their fingerprints are checked. */
  registry: Registry;
  /** This process's identity, unique in the deployment (e.g. the process group's name). */
  identity: string;
  /**
   * Shared secret. When set, both sides prove they know it (HMAC-SHA256
   * challenge) before any message is handled, and a peer without it is
   * refused. Default: none (no authentication).
   */
  key?: string | Uint8Array;
  /** Receives messages and link events. Default: one that ignores everything. */
  handler?: LinkHandler;
  /**
   * Where errors and reconnects are reported. Default: nowhere (like the
   * buses); pass the application's logger, or `stderrLogger`.
   */
  logger?: TransportLogger;
  /** Bound of the outbound buffer (pending + unacknowledged frames), in bytes. Default: 8 MiB. */
  maxBufferedBytes?: number;
  /** What to do when the outbound buffer is full. Default: `"wait"`. */
  overflow?: OverflowPolicy;
  /** Size of write and read slabs, in bytes. Default: 256 KiB. */
  slabSize?: number;
  /** Send a heartbeat when nothing was sent for this long, in ms. Default: 1000. */
  heartbeatMs?: number;
  /**
   * Close the connection when no whole frame arrived for this long, in ms
   * (a dead peer, or one that stalls mid-frame). Default: 5000.
   */
  peerTimeoutMs?: number;
  /** Deadline for a connection's handshake, in ms. Default: 5000. */
  handshakeTimeoutMs?: number;
  /** What this process hosts and subscribes to, announced on every connection. */
  announcement?: Announcement;
}

/** Options of {@linkcode Link.connect}. */
export interface ConnectOptions extends LinkOptions {
  /**
   * Reconnect schedule, or `false` to close the link when its connection
   * drops. Default: on, with the bounds of {@linkcode RECONNECT_DEFAULTS}
   * (backoff from 50 ms to 5 s, giving up after a minute without a
   * connection). Failures no retry can fix are never retried: see
   * {@linkcode Link.connect}.
   */
  reconnect?: ReconnectOptions | false;
  /** Gives up connecting (and closes the link) when aborted. */
  signal?: AbortSignal;
}

/** Options of {@linkcode Link.send}. */
export interface SendOptions {
  /** Stops waiting for room in the buffer. */
  signal?: AbortSignal;
}

/** Options of {@linkcode Link.close}. */
export interface LinkCloseOptions {
  /** How long to wait for buffered messages to be acknowledged, in ms. Default: 5000. */
  drainMs?: number;
}

/** Counters of a link. */
export interface LinkStats {
  /** Messages accepted by `write`/`send`. */
  sent: number;
  /** Messages delivered to the handler. */
  received: number;
  /** Messages dropped by the overflow policy. */
  dropped: number;
  /** Messages still buffered when the link closed for good (delivery unknown or not done). */
  undelivered: number;
  /** Connections that opened after the first one. */
  reconnects: number;
  /** Of those, connections from a new instance of the peer (it restarted, and lost what it held). */
  peerRestarts: number;
  /** Handler calls that threw (the error is logged; the link goes on). */
  handlerErrors: number;
}

/** What a link wrote: {@linkcode Link.written}. */
export interface LinkWritten {
  /** Data frames written once (control frames not counted). */
  readonly frames: number;
  /** Their bytes. */
  readonly bytes: number;
  /** Data frames written again after a reconnect, because the peer had not acknowledged them. */
  readonly resent: number;
}

/** Results of {@linkcode Link.write}. */
export const WRITE_RESULT: Readonly<{ queued: 0; dropped: 1; full: 2 }> = Object.freeze({
  /** The message is in the buffer. */
  queued: 0,
  /** The overflow policy dropped a message (counted in `stats.dropped`). */
  dropped: 1,
  /**
   * Policy `wait` and no room (the buffer is full, or 128 KiB waits to be
   * written while connected): nothing was queued; await `room()`.
   */
  full: 2,
});

/** A {@linkcode Link.write} result. */
export type WriteResult = typeof WRITE_RESULT[keyof typeof WRITE_RESULT];

/** Link states. */
export type LinkState = "connecting" | "open" | "away" | "closed";

const QUEUED = 0;
const DROPPED = 1;
const FULL = 2;
const READ_MIN = 16 * 1024;
const ACK_EVERY = 512;
/**
 * Unwritten bytes past which `write` under policy `wait` answers `full` while
 * connected (the buffer's bound still covers everything held, written or not).
 * Small enough that frames are still in the CPU cache when written: at 1 MiB
 * the socket writes cost the sender about 1.7x the CPU (cpu profile, unix
 * stream of V2Swap).
 */
const PACE_BYTES = 128 * 1024;
/** Data segments up to this size share a write with pending control frames. */
const COMBINE_MAX = 16 * 1024;
const NOOP_HANDLER: LinkHandler = { message() {} };
/** Failures a new connection would meet again: never retried. */
const PERMANENT: ReadonlySet<TransportErrorCode> = new Set<TransportErrorCode>([
  "TRANSPORT_AUTH",
  "TRANSPORT_TLS",
  "TRANSPORT_VERSION",
  "TRANSPORT_SCHEMA_MISMATCH",
  "TRANSPORT_HANDSHAKE",
  "TRANSPORT_DUPLICATE_IDENTITY",
]);
const NAME_SEPARATOR = "\n";

const KIND_CODE: Readonly<Record<RouteKind, number>> = {
  publish: 1,
  send: 2,
  request: 3,
  reply: 4,
};
const CODE_KIND: readonly (RouteKind | undefined)[] = [
  undefined,
  "publish",
  "send",
  "request",
  "reply",
];

/** One socket under a link. */
class Session {
  open = false;
  closed = false;
  /** Resolves when the session closes (wakes a paused read loop). */
  readonly ended = Promise.withResolvers<void>();
  /** Why the session ended, when the link (not the socket) decided it. */
  error: TransportError | undefined;
  /** The peer said goodbye (a Close frame): an orderly end, no alarm. */
  goodbye = false;
  /**
   * A write failed (the peer closed the socket): nothing more is written, and
   * the read side, which still holds what the peer sent last (its goodbye,
   * often), says why the session ended.
   */
  writeFailed = false;
  lastRecvAt = Date.now();
  lastSentAt = Date.now();
  constructor(readonly stream: ByteStream, readonly splitter: FrameSplitter) {}
  close(): void {
    this.ended.resolve();
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    try {
      this.stream.close();
    } catch {
      // Already closed by the other side.
    }
  }
}

/** Internal wiring between a link and the listener that accepted it. */
export interface AcceptedLinkContext {
  readonly options: LinkOptions;
  readonly key: CryptoKey | undefined;
  readonly bootId: number;
  readonly peer: string;
  readonly transport: Transport;
  onClosed(link: Link): void;
}

/**
 * One logical connection to a peer process, carrying frames both ways.
 *
 * Outbound messages are encoded straight into a write slab
 * (`type.encode(msg, slab, offset)`) and coalesced: the link writes whatever
 * accumulated since its last write finished, up to 64 KiB per write, starting
 * on the microtask after the first message. Under policy `wait`, a producer
 * that gets 128 KiB ahead of the socket is told `full` until the next write
 * completes, so encoding and writing take turns. Frames stay in the buffer
 * until the peer acknowledges them, so when a connection breaks, everything it
 * did not confirm is written again on the next one, in order: a message is
 * delivered, or counted as dropped by the chosen overflow policy, or counted
 * as `undelivered` when the link closes for good. (If the peer process itself
 * dies, frames it received but had not yet acknowledged are delivered again to
 * its next instance: at-least-once across a peer crash, exactly-once
 * otherwise.)
 *
 * Inbound bytes are read straight into a {@linkcode FrameSplitter} slab and
 * each frame is handed to the handler as a zero-copy view.
 *
 * Routing costs nothing for a plain publish (the frame is the message). A
 * message sent to an actor, or a request or reply, is preceded by a 21-byte
 * envelope frame whose names are small ids announced once per connection.
 *
 * @example Two links over a Unix socket
 * ```ts
 * import { defineMessage, field, Registry } from "../../mod.ts";
 * import { Link } from "./link.ts";
 * import { LinkListener } from "./listener.ts";
 * import { UnixTransport } from "./unix.ts";
 *
 * const Ping = defineMessage({ id: 1, name: "Ping", fields: { n: field.u32() } });
 * const registry = new Registry([Ping]);
 * const dir = await Deno.makeTempDir();
 * const got = Promise.withResolvers<number>();
 * const listener = await LinkListener.listen(new UnixTransport({ path: `${dir}/a.sock` }), {
 *   registry,
 *   identity: "a",
 *   handler: { message: (view) => got.resolve(Ping.isView(view) ? view.n : -1) },
 * });
 * const link = await Link.connect(listener.transport, { registry, identity: "b" });
 * link.write(Ping, { n: 42 });
 * if (await got.promise !== 42) throw new Error("not delivered");
 * await link.close();
 * await listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Link implements AsyncDisposable {
  readonly #transport: Transport;
  readonly #role: "dialer" | "acceptor";
  readonly #registry: Registry;
  readonly #identity: string;
  readonly #key: CryptoKey | undefined;
  readonly #handler: LinkHandler;
  readonly #log: TransportLogger;
  readonly #policy: OverflowPolicy;
  readonly #outbox: Outbox;
  readonly #slabSize: number;
  readonly #maxFrame: number;
  readonly #heartbeatMs: number;
  readonly #peerTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #reconnect: Required<ReconnectOptions> | false;
  readonly #bootId: number;
  readonly #onClosed: ((link: Link) => void) | undefined;
  readonly #stop = new AbortController();
  readonly #closed = Promise.withResolvers<TransportError | undefined>();

  #state: LinkState = "connecting";
  #peer = "";
  #session: Session | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #writing = false;
  #flushQueued = false;
  #writer: Promise<void> = Promise.resolve();
  #runner: Promise<void> = Promise.resolve();
  #opens = 0;
  #closing = false;
  #finalError: TransportError | undefined;
  #room: PromiseWithResolvers<void> | undefined;
  #ackRequested = false;
  #ackSoon = false;
  /** A `write` answered `full` for pacing; the write loop wakes `room()` waiters. */
  #paced = false;
  #paused: PromiseWithResolvers<void> | undefined;

  // Control frames: written before data, double-buffered.
  #ctl = new Uint8Array(4096);
  #ctlSpare = new Uint8Array(4096);
  #ctlAt = 0;
  #hbAt = -1;
  #scratch = new Uint8Array(0);
  readonly #f64 = new Float64Array(1);
  readonly #f64Bytes = new Uint8Array(this.#f64.buffer);

  // Outbound names.
  readonly #nameIds = new Map<string, number>();
  readonly #names: string[] = [""];
  readonly #envelope = { kind: 0, to: 0, from: 0, correlation: 0 };
  #announcement: Announcement;

  // Inbound state.
  #peerBoot = 0;
  #peerMaxFrame: number;
  #peerTypes: ReadonlySet<number> | undefined;
  /** The type of the last write, already checked against the peer's types. */
  #knownType: MessageType | undefined;
  #received = 0;
  #ackedReceived = 0;
  #peerNames: string[] = [""];
  #peerAnnouncement: Announcement = { actors: [], topics: [] };
  #envPending = false;
  readonly #route = { kind: "publish" as RouteKind, to: "", from: "", correlation: 0 };

  /** Counters. */
  readonly stats: LinkStats = {
    sent: 0,
    received: 0,
    dropped: 0,
    undelivered: 0,
    reconnects: 0,
    peerRestarts: 0,
    handlerErrors: 0,
  };

  /** Data frames and bytes written, and frames resent after reconnects. */
  get written(): LinkWritten {
    const o = this.#outbox;
    return { frames: o.framesWritten, bytes: o.bytesWritten, resent: o.framesResent };
  }

  /** Use {@linkcode Link.connect}, or get links from a `LinkListener`. */
  private constructor(
    transport: Transport,
    role: "dialer" | "acceptor",
    options: ConnectOptions,
    key: CryptoKey | undefined,
    bootId: number,
    onClosed: ((link: Link) => void) | undefined,
  ) {
    this.#transport = transport;
    this.#role = role;
    this.#registry = options.registry;
    this.#identity = options.identity;
    this.#key = key;
    this.#handler = options.handler ?? NOOP_HANDLER;
    this.#log = options.logger ?? silentLogger;
    this.#policy = options.overflow ?? "wait";
    this.#slabSize = options.slabSize ?? 256 * 1024;
    this.#outbox = new Outbox(options.maxBufferedBytes ?? 8 * 1024 * 1024, this.#slabSize);
    this.#maxFrame = options.registry.maxFrameSize;
    this.#peerMaxFrame = this.#maxFrame;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#peerTimeoutMs = options.peerTimeoutMs ?? 5000;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    const r = options.reconnect;
    this.#reconnect = r === false ? false : {
      initialMs: r?.initialMs ?? RECONNECT_DEFAULTS.initialMs,
      maxMs: r?.maxMs ?? RECONNECT_DEFAULTS.maxMs,
      jitter: r?.jitter ?? RECONNECT_DEFAULTS.jitter,
      giveUpMs: r?.giveUpMs ?? RECONNECT_DEFAULTS.giveUpMs,
    };
    this.#bootId = bootId;
    this.#onClosed = onClosed;
    this.#announcement = options.announcement ?? { actors: [], topics: [] };
    this.#timer = setInterval(() => this.#tick(), Math.max(10, this.#heartbeatMs / 2));
  }

  /**
   * Dials `transport` and resolves once the first connection passed its
   * handshake. Failures that may pass (the peer is not up yet, a refused or
   * reset connection, a listener cutting connections under a flood:
   * `TRANSPORT_CONNECT`, `TRANSPORT_CLOSED`, `TRANSPORT_TIMEOUT`,
   * `TRANSPORT_FLOOD`) are retried with backoff until `signal` aborts or
   * `reconnect.giveUpMs` (default one minute) passed without a connection;
   * then it rejects with `TRANSPORT_CONNECT` naming the last failure. A
   * failure no retry can fix rejects at once with its own code:
   * `TRANSPORT_TLS` (certificate refused), `TRANSPORT_AUTH` (wrong or missing
   * key), `TRANSPORT_VERSION`, `TRANSPORT_SCHEMA_MISMATCH`,
   * `TRANSPORT_HANDSHAKE` (a malformed handshake), and
   * `TRANSPORT_DUPLICATE_IDENTITY` (the listener has another live peer of
   * this identity). The same rules apply to reconnects after the link was
   * open.
   */
  static async connect(transport: Transport, options: ConnectOptions): Promise<Link> {
    const key = options.key === undefined ? undefined : await importKey(options.key);
    const link = new Link(transport, "dialer", options, key, newBootId(), undefined);
    const first = Promise.withResolvers<void>();
    link.#runner = link.#dialLoop(first, options.signal);
    try {
      await first.promise;
    } catch (e) {
      await link.#runner;
      throw e;
    }
    return link;
  }

  /** @internal Creates the link a listener accepted. */
  static _accepted(ctx: AcceptedLinkContext): Link {
    const link = new Link(
      ctx.transport,
      "acceptor",
      { ...ctx.options, reconnect: false },
      ctx.key,
      ctx.bootId,
      ctx.onClosed,
    );
    link.#peer = ctx.peer;
    return link;
  }

  /** The peer's identity (`""` until the first handshake). */
  get peer(): string {
    return this.#peer;
  }

  /** This process's identity. */
  get identity(): string {
    return this.#identity;
  }

  /** `connecting`, `open`, `away` (between connections) or `closed`. */
  get state(): LinkState {
    return this.#state;
  }

  /** The transport this link runs on. */
  get transport(): Transport {
    return this.#transport;
  }

  /** What the peer last announced. */
  get peerAnnouncement(): Announcement {
    return this.#peerAnnouncement;
  }

  /** Bytes in the outbound buffer (pending and unacknowledged). */
  get buffered(): number {
    return this.#outbox.retained;
  }

  /** Resolves when the link closed for good, with the error that closed it (if any). */
  get closed(): Promise<TransportError | undefined> {
    return this.#closed.promise;
  }

  /**
   * Queues `message` without waiting. Returns `WRITE_RESULT.queued`,
   * `.dropped` (the policy dropped a message; counted) or `.full` (policy
   * `wait` and no room: nothing queued; `await link.room()` and retry).
   *
   * @throws {TransportError} `TRANSPORT_CLOSED`; `TRANSPORT_BUFFER_FULL` under
   *   policy `error`; `TRANSPORT_FRAME_TOO_LARGE` (over the buffer or the
   *   peer's frame limit); `TRANSPORT_UNKNOWN_TYPE` (the peer's registry lacks
   *   the type: it would refuse the frame on every reconnect).
   * @throws {CodecError} when `message` does not fit its type.
   */
  write<F extends Fields>(
    type: MessageType<F>,
    message: Parameters<MessageType<F>["encode"]>[0],
    route?: OutboundRoute,
  ): WriteResult {
    if (this.#state === "closed" || this.#closing) throw this.#closedError();
    const size = type.variable ? type.encodedSize(message) : 12 + type.fixedSize;
    if (size - 12 > this.#peerMaxFrame) this.#refuse(type, size);
    if (type !== this.#knownType) {
      if (this.#peerTypes?.has(type.id) === false) this.#refuse(type, size);
      this.#knownType = type;
    }
    const need = route === undefined ? size : size + ENVELOPE_SIZE;
    const outbox = this.#outbox;
    if (!outbox.fits(need)) {
      const r = this.#overflow(need, type);
      if (r !== QUEUED) return r;
    } else if (
      outbox.pendingBytes >= PACE_BYTES && this.#policy === "wait" && this.#session?.open === true
    ) {
      // Pacing: a producer that runs ahead of the socket waits for the next write, so the
      // socket never idles while it encodes a whole buffer's worth in one go.
      this.#paced = true;
      return FULL;
    }
    const slab = outbox.slab(need);
    let at = outbox.at;
    if (route !== undefined) at = this.#encodeEnvelope(route, slab, at, type);
    const end = type._encode(message, slab, outbox.view, at);
    let flags = route === undefined ? 0 : FLAG_ROUTED;
    if (!this.#ackRequested && outbox.retained > outbox.max / 4) {
      this.#ackRequested = true;
      flags |= FLAG_ACK_REQUEST;
    }
    if (flags !== 0) slab[at + HEADER_OFFSET.flags] = flags;
    outbox.commit(end, route === undefined ? 1 : 2);
    this.stats.sent++;
    if (!this.#flushQueued && this.#session?.open === true) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    return QUEUED;
  }

  /**
   * Queues `message`, waiting for room under policy `wait`. Resolves once
   * queued (or dropped and counted, under a drop policy).
   *
   * @throws {TransportError} `TRANSPORT_CLOSED` (also if the link closes while
   *   waiting), `TRANSPORT_BUFFER_FULL` under policy `error`.
   */
  async send<F extends Fields>(
    type: MessageType<F>,
    message: Parameters<MessageType<F>["encode"]>[0],
    route?: OutboundRoute,
    options: SendOptions = {},
  ): Promise<void> {
    while (this.write(type, message, route) === FULL) await this.room(options.signal);
  }

  /** Resolves when the buffer has more room than before (or rejects if the link closes). */
  room(signal?: AbortSignal): Promise<void> {
    if (this.#state === "closed") return Promise.reject(this.#closedError());
    this.#room ??= Promise.withResolvers<void>();
    if (signal === undefined) return this.#room.promise;
    signal.throwIfAborted();
    const room = this.#room.promise;
    return new Promise<void>((resolve, reject) => {
      const abort = () => reject(signal.reason);
      signal.addEventListener("abort", abort, { once: true });
      room.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
    });
  }

  /** Resolves when every buffered message was acknowledged by the peer. */
  async drained(signal?: AbortSignal): Promise<void> {
    while (this.#outbox.retained > 0) {
      signal?.throwIfAborted();
      const room = this.room(signal);
      this.#requestAck();
      await room;
    }
  }

  /**
   * Stops handing inbound messages to the handler (and so stops
   * acknowledging them) until {@linkcode resume}: the peer's buffer fills and
   * its overflow policy applies. For a consumer that is full (a bus whose
   * mailbox policy is `wait`). Heartbeats go on, so the peer stays connected.
   */
  pause(): void {
    this.#paused ??= Promise.withResolvers<void>();
    // A connection that can no longer be written is ended now: a paused read loop won't.
    const s = this.#session;
    if (s?.writeFailed === true) {
      this.#endSession(
        s,
        new TransportError("TRANSPORT_CLOSED", `connection to '${this.#peer}' broke`, {
          peer: this.#peer,
        }),
      );
    }
  }

  /** Hands inbound messages to the handler again (those that arrived meanwhile first). */
  resume(): void {
    const p = this.#paused;
    if (p === undefined) return;
    this.#paused = undefined;
    if (this.#session !== undefined) this.#session.lastRecvAt = Date.now();
    p.resolve();
  }

  /** Whether inbound delivery is paused. */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  /** Replaces what this process announces, and tells the peer now if connected. */
  announce(announcement: Announcement): void {
    this.#announcement = announcement;
    if (this.#session?.open === true) {
      this.#queuePresence();
      this.#kick();
    }
  }

  /**
   * Closes the link: waits (up to `drainMs`) for buffered messages to be
   * acknowledged, says goodbye, closes the socket. Messages still buffered
   * then are counted in `stats.undelivered`. Idempotent.
   */
  async close(options: LinkCloseOptions = {}): Promise<void> {
    if (this.#closing || this.#state === "closed") {
      await this.#closed.promise;
      return;
    }
    this.#closing = true;
    const s = this.#session;
    if (s?.open === true && this.#outbox.retained > 0) {
      const deadline = AbortSignal.timeout(options.drainMs ?? 5000);
      try {
        await this.drained(AbortSignal.any([deadline, this.#stop.signal]));
      } catch {
        // Deadline or the link failed meanwhile: what is left is counted below.
      }
    }
    if (s !== undefined && s === this.#session && s.open) {
      // Acknowledge what arrived, so the peer does not count it as undelivered.
      if (this.#received > this.#ackedReceived) this.#queueAck();
      this.#ctlWrite(Close, { reason: "closed by its owner" });
      this.#kick();
      await this.#writer;
    }
    this.#finish(undefined);
    await this.#runner;
    await this.#writer;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- sessions -----------------------------------------------------------

  async #dialLoop(
    first: PromiseWithResolvers<void>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let attempt = 0;
    let opened = false;
    let last: TransportError | undefined;
    /** Since when no connection has been open (for `giveUpMs`). */
    let since = Date.now();
    /** Whether the peer is expected to be away: not reached yet, or it said goodbye. */
    let expected = true;
    const stop = signal === undefined
      ? this.#stop.signal
      : AbortSignal.any([this.#stop.signal, signal]);
    while (!this.#stop.signal.aborted) {
      let error: TransportError;
      let session: Session | undefined;
      try {
        const stream = await this.#transport.dial(stop);
        error = await this.#runSession(stream, stop, (s) => {
          attempt = 0;
          session = s;
          if (!opened) {
            opened = true;
            first.resolve();
          }
        });
      } catch (e) {
        error = toTransportError(e, this.#peer);
      }
      if (session !== undefined) {
        since = Date.now();
        expected = session.goodbye;
      }
      if (this.#stop.signal.aborted) break;
      if (stop.aborted) {
        const gaveUp = new TransportError(
          "TRANSPORT_CONNECT",
          `gave up connecting to ${this.#transport.address}: the caller's signal aborted` +
            (last === undefined ? "" : ` (last error: ${last.message})`),
          { address: this.#transport.address, cause: last ?? error },
        );
        if (!opened) first.reject(gaveUp);
        // The caller stopped it (its node is closing): an orderly end, logged as such.
        this.#finish(gaveUp, "info");
        break;
      }
      last = error;
      if (PERMANENT.has(error.code) || this.#reconnect === false) {
        if (!opened) first.reject(error);
        this.#finish(error);
        break;
      }
      const r = this.#reconnect;
      const base = Math.min(r.maxMs, r.initialMs * 2 ** Math.min(attempt, 30));
      const delay = base * (1 - r.jitter * Math.random());
      attempt++;
      const waited = Date.now() - since;
      if (waited + delay > r.giveUpMs) {
        const gaveUp = new TransportError(
          "TRANSPORT_CONNECT",
          `gave up connecting to ${this.#transport.address} after ${attempt} attempts in ` +
            `${waited} ms (reconnect.giveUpMs ${r.giveUpMs}); last error: ${error.message}. ` +
            `Check that the peer runs and listens there`,
          { peer: this.#peer, address: this.#transport.address, cause: error },
        );
        if (!opened) first.reject(gaveUp);
        this.#finish(gaveUp);
        break;
      }
      // Waiting for a peer that is not up yet, or that said goodbye, is no alarm.
      (expected ? this.#log.info : this.#log.warn).call(this.#log, "link reconnecting", {
        identity: this.#identity,
        peer: this.#peer,
        address: this.#transport.address,
        attempt,
        delayMs: Math.round(delay),
        error,
      });
      await sleep(delay, stop);
    }
    if (!opened) first.reject(this.#closedError());
  }

  /**
   * Handshake on `stream` (given up when `stop` aborts: a peer address that
   * accepts but never answers must not hold a closing node for the whole
   * handshake deadline), then pump it until it ends; returns why it ended.
   */
  async #runSession(
    stream: ByteStream,
    stop: AbortSignal,
    onOpen: (s: Session) => void,
  ): Promise<TransportError> {
    const splitter = new FrameSplitter({
      maxFrameSize: this.#maxFrame,
      slabSize: this.#slabSize,
    });
    const s = new Session(stream, splitter);
    let result: HandshakeResult;
    try {
      result = await handshake(stream, {
        role: "dialer",
        identity: this.#identity,
        registry: this.#registry,
        key: this.#key,
        maxFrameSize: this.#maxFrame,
        timeoutMs: this.#handshakeTimeoutMs,
        signal: stop,
        bootId: this.#bootId,
        bind: () => this.#bootId,
        resumePoint: (peer) => this._resumePoint(peer),
      });
    } catch (e) {
      const error = toTransportError(e, this.#peer);
      // Tell the peer what was wrong with what it sent (an Error frame it sent is not echoed).
      const ours = error.code === "TRANSPORT_VERSION" ||
        error.code === "TRANSPORT_SCHEMA_MISMATCH" ||
        error.code === "TRANSPORT_HANDSHAKE";
      if (ours && !isPeerError(error)) await sendError(stream, error);
      s.close();
      return error;
    }
    if (this.#stop.signal.aborted) {
      s.close();
      return this.#closedError();
    }
    this.#attach(s, result);
    onOpen(s);
    return await this.#pump(s);
  }

  /** @internal This link's boot id. */
  get _bootId(): number {
    return this.#bootId;
  }

  /** @internal The receive state to report to `peer` (no side effects). */
  _resumePoint(peer: PeerHello): ResumePoint {
    return peer.bootId === this.#peerBoot
      ? { received: this.#received, ref: this.#peerBoot }
      : { received: 0, ref: peer.bootId };
  }

  /**
   * @internal Whether a connection from another instance of the peer than
   * `bootId` is open (a newcomer claiming the identity of a live peer).
   */
  _heldByOther(bootId: number): boolean {
    return this.#session?.open === true && this.#peerBoot !== bootId;
  }

  /** @internal Stops the current connection (before a new one's resume point is taken). */
  _detach(reason: string): void {
    const s = this.#session;
    if (s === undefined) return;
    this.#endSession(s, new TransportError("TRANSPORT_CLOSED", reason, { peer: this.#peer }));
  }

  /** @internal A listener hands over an authenticated connection. */
  _serve(stream: ByteStream, result: HandshakeResult): void {
    if (this.#state === "closed" || this.#closing) {
      stream.close();
      return;
    }
    const s = new Session(
      stream,
      new FrameSplitter({ maxFrameSize: this.#maxFrame, slabSize: this.#slabSize }),
    );
    this.#attach(s, result);
    const previous = this.#runner;
    this.#runner = (async () => {
      const error = await this.#pump(s);
      // A peer that breaks the protocol is not waited for: its link closes for good.
      if (error.code === "TRANSPORT_PROTOCOL" && s.error === error) this.#finish(error);
      await previous;
    })();
  }

  #attach(s: Session, result: HandshakeResult): void {
    const peer = result.peer;
    if (this.#session !== undefined) this._detach("replaced by a new connection");
    const peerRestarted = this.#opens > 0 && peer.bootId !== this.#peerBoot;
    if (peerRestarted) this.stats.peerRestarts++;
    if (peer.bootId !== this.#peerBoot) {
      this.#peerBoot = peer.bootId;
      this.#received = 0;
    }
    // The peer announces its whole name table again on every connection.
    this.#peerNames = [""];
    this.#ackedReceived = this.#received;
    this.#envPending = false;
    this.#peer = peer.identity;
    this.#peerMaxFrame = peer.maxFrameSize;
    this.#peerTypes = peer.types;
    this.#knownType = undefined;
    const resume = result.peerResume;
    this.#outbox.resume(resume.ref === this.#bootId ? resume.received : -1);
    this.#ackRequested = false;
    this.#session = s;
    s.open = true;
    s.lastRecvAt = Date.now();
    this.#state = "open";
    if (this.#opens++ > 0) this.stats.reconnects++;
    if (result.leftover.length > 0) s.splitter.push(result.leftover);
    // Control state is per connection: start it afresh, names first.
    this.#ctlAt = 0;
    this.#hbAt = -1;
    if (this.#names.length > 1) {
      this.#ctlWrite(Announce, {
        kind: ANNOUNCE_NAMES,
        first: 1,
        a: this.#names.slice(1).join(NAME_SEPARATOR),
        b: "",
      });
    }
    this.#queuePresence();
    this.#log.info("link open", {
      identity: this.#identity,
      peer: this.#peer,
      address: this.#transport.address,
      role: this.#role,
    });
    this.#kick();
    this.#wake();
    this.#call(() => this.#handler.up?.(this, peerRestarted));
  }

  async #pump(s: Session): Promise<TransportError> {
    const splitter = s.splitter;
    let error: TransportError | undefined;
    try {
      if (splitter.buffered > 0) this.#dispatch(s);
      while (!s.closed) {
        const paused = this.#paused;
        if (paused !== undefined) {
          // Stop reading: the kernel buffers fill and the peer feels the backpressure.
          await Promise.race([paused.promise, s.ended.promise]);
          if (s.closed) break;
          this.#dispatch(s);
          continue;
        }
        const n = await s.stream.read(splitter.reserve(READ_MIN));
        if (s.closed) break;
        if (n === null) {
          const partial = splitter.buffered;
          error = new TransportError(
            "TRANSPORT_CLOSED",
            `peer '${this.#peer}' closed the connection` +
              (partial > 0 ? ` mid-frame (${partial} bytes of an unfinished frame dropped)` : ""),
            { peer: this.#peer },
          );
          break;
        }
        splitter.commit(n);
        this.#dispatch(s);
      }
    } catch (e) {
      error = s.error ?? toTransportError(e, this.#peer);
    }
    if (s.error !== undefined) error = s.error;
    error ??= new TransportError("TRANSPORT_CLOSED", "connection closed", { peer: this.#peer });
    this.#endSession(s, error);
    return error;
  }

  /** Ends `s` (if still current) with `error`: the link goes `away`. */
  #endSession(s: Session, error: TransportError): void {
    if (s !== this.#session) {
      s.close();
      return;
    }
    s.error ??= error;
    this.#session = undefined;
    s.close();
    if (this.#state === "open") this.#state = "away";
    this.#ctlAt = 0;
    this.#hbAt = -1;
    if (!this.#closing && !this.#stop.signal.aborted) {
      const log = this.#log;
      const level = s.goodbye ? log.info : error.code === "TRANSPORT_CLOSED" ? log.warn : log.error;
      level.call(log, "link connection ended", {
        identity: this.#identity,
        peer: this.#peer,
        address: this.#transport.address,
        error,
      });
      this.#call(() => this.#handler.down?.(this, error));
    }
    this.#wake();
  }

  /** Closes `s` because of a protocol violation, telling the peer why. */
  #fail(s: Session, error: TransportError): never {
    s.error ??= error;
    // Best effort: the Error frame goes out before the socket closes.
    const stream = s.stream;
    s.closed = true;
    s.open = false;
    sendError(stream, error).finally(() => {
      try {
        stream.close();
      } catch {
        // Already closed.
      }
    });
    throw error;
  }

  // ---- inbound -------------------------------------------------------------

  #dispatch(s: Session): void {
    const splitter = s.splitter;
    let frames = 0;
    let p: number;
    for (;;) {
      if (this.#paused !== undefined) break;
      try {
        p = splitter.next();
      } catch (e) {
        this.#fail(
          s,
          new TransportError(
            "TRANSPORT_PROTOCOL",
            `peer '${this.#peer}' sent a malformed frame: ${(e as Error).message}`,
            { peer: this.#peer, cause: e },
          ),
        );
      }
      if (p < 0) break;
      frames++;
      const buf = splitter.buffer;
      const dv = splitter.dataView;
      const id = dv.getUint16(p + HEADER_OFFSET.typeId, true);
      if (id >= FIRST_CONTROL_TYPE_ID) {
        this.#control(s, id, buf, p);
        if (s.closed) return;
        continue;
      }
      const flags = dv.getUint16(p + HEADER_OFFSET.flags, true);
      const route = this.#route;
      if ((flags & FLAG_ROUTED) !== 0) {
        if (!this.#envPending) this.#protocolError(s, "a routed frame without its envelope");
        this.#envPending = false;
        this.#received += 2;
      } else {
        if (this.#envPending) this.#protocolError(s, "an envelope not followed by its message");
        this.#received++;
      }
      let view: MessageView<Fields>;
      try {
        view = this.#registry.viewChecked(buf, dv, p);
      } catch (e) {
        this.#fail(
          s,
          new TransportError(
            "TRANSPORT_PROTOCOL",
            `peer '${this.#peer}' sent a bad frame: ${(e as Error).message}`,
            { peer: this.#peer, cause: e },
          ),
        );
      }
      if ((flags & FLAG_ROUTED) === 0) {
        route.kind = "publish";
        route.to = view.type.topic;
        route.from = "";
        route.correlation = 0;
      }
      if ((flags & FLAG_ACK_REQUEST) !== 0) this.#ackSoon = true;
      this.stats.received++;
      try {
        this.#handler.message(view, route, this);
      } catch (e) {
        this.stats.handlerErrors++;
        this.#log.error("link handler threw", {
          identity: this.#identity,
          peer: this.#peer,
          type: view.type.name,
          error: e,
        });
      }
      if (s.closed) return;
    }
    if (frames > 0) {
      s.lastRecvAt = Date.now();
      if (this.#ackSoon || this.#received - this.#ackedReceived >= ACK_EVERY) {
        this.#ackSoon = false;
        this.#queueAck();
      }
    }
  }

  #control(s: Session, id: number, buf: Uint8Array, p: number): void {
    switch (id) {
      case Heartbeat.id: {
        const count = Heartbeat.view(buf, p).received;
        if ((buf[p + HEADER_OFFSET.flags]! & FLAG_ACK_REQUEST) !== 0) this.#ackSoon = true;
        this.#outbox.ack(count);
        this.#ackRequested = false;
        // Waiters re-check (and `drained` asks again if a segment is still partly unconfirmed).
        this.#wake();
        return;
      }
      case Envelope.id: {
        if (this.#envPending) this.#protocolError(s, "two envelopes in a row");
        const e = Envelope.view(buf, p);
        const kind = CODE_KIND[e.kind];
        const to = this.#peerNames[e.to];
        const from = this.#peerNames[e.from];
        if (kind === undefined || to === undefined || from === undefined) {
          this.#protocolError(s, `an envelope with unknown kind ${e.kind} or name ids`);
        }
        const route = this.#route;
        route.kind = kind;
        route.to = to;
        route.from = from;
        route.correlation = e.correlation;
        this.#envPending = true;
        return;
      }
      case Announce.id: {
        const a = Announce.decode(buf, p);
        if (a.kind === ANNOUNCE_NAMES) {
          if (a.first !== this.#peerNames.length) {
            this.#protocolError(
              s,
              `names starting at id ${a.first}, expected ${this.#peerNames.length}`,
            );
          }
          for (const name of a.a.split(NAME_SEPARATOR)) this.#peerNames.push(name);
        } else if (a.kind === ANNOUNCE_PRESENCE) {
          this.#peerAnnouncement = Object.freeze({
            actors: Object.freeze(a.a === "" ? [] : a.a.split(NAME_SEPARATOR)),
            topics: Object.freeze(a.b === "" ? [] : a.b.split(NAME_SEPARATOR)),
          });
          this.#call(() => this.#handler.announce?.(this.#peerAnnouncement, this));
        }
        return;
      }
      case ErrorFrame.id: {
        const e = ErrorFrame.decode(buf, p);
        s.error ??= peerError(e.code, e.message, this.#peer, e.messageType);
        s.close();
        return;
      }
      case Close.id: {
        const error = new TransportError(
          "TRANSPORT_CLOSED",
          `peer '${this.#peer}' closed the link`,
          { peer: this.#peer },
        );
        if (s.error === undefined) s.goodbye = true;
        s.error ??= error;
        s.close();
        if (this.#role === "acceptor") queueMicrotask(() => this.#finish(undefined));
        return;
      }
      default:
        this.#protocolError(s, `control frame ${id.toString(16)} after the handshake`);
    }
  }

  #protocolError(s: Session, what: string): never {
    this.#fail(
      s,
      new TransportError("TRANSPORT_PROTOCOL", `peer '${this.#peer}' sent ${what}`, {
        peer: this.#peer,
      }),
    );
  }

  // ---- outbound ------------------------------------------------------------

  /** A frame the peer would refuse (and refuse again on every reconnect): fail it now. */
  #refuse(type: MessageType, size: number): never {
    if (this.#peerTypes?.has(type.id) === false) {
      throw new TransportError(
        "TRANSPORT_UNKNOWN_TYPE",
        `peer '${this.#peer}' does not know message type '${type.name}' (id ${type.id}); ` +
          `add it to the peer's registry`,
        { peer: this.#peer, messageType: type.name },
      );
    }
    throw new TransportError(
      "TRANSPORT_FRAME_TOO_LARGE",
      `a ${size}-byte ${type.name} frame exceeds peer '${this.#peer}''s frame limit of ` +
        `${this.#peerMaxFrame} bytes`,
      { peer: this.#peer, messageType: type.name },
    );
  }

  #overflow(need: number, type: MessageType): WriteResult {
    const outbox = this.#outbox;
    if (need > outbox.max) {
      throw new TransportError(
        "TRANSPORT_FRAME_TOO_LARGE",
        `a ${need}-byte ${type.name} frame exceeds the link buffer of ${outbox.max} bytes`,
        { peer: this.#peer },
      );
    }
    switch (this.#policy) {
      case "wait":
        return FULL;
      case "error":
        throw new TransportError(
          "TRANSPORT_BUFFER_FULL",
          `link to '${
            this.#peer || this.#transport.address
          }' has ${outbox.retained} bytes buffered ` +
            `(limit ${outbox.max}); ${type.name} not sent`,
          { peer: this.#peer, address: this.#transport.address },
        );
      case "drop-oldest":
        while (!outbox.fits(need) && outbox.dropOldest()) this.stats.dropped++;
        if (outbox.fits(need)) return QUEUED;
        this.stats.dropped++;
        return DROPPED;
      default:
        this.stats.dropped++;
        return DROPPED;
    }
  }

  #encodeEnvelope(route: OutboundRoute, slab: Uint8Array, at: number, type: MessageType): number {
    const e = this.#envelope;
    e.kind = KIND_CODE[route.kind];
    e.to = this.#intern(route.to ?? type.topic);
    e.from = route.from === undefined ? 0 : this.#intern(route.from);
    e.correlation = route.correlation ?? 0;
    return Envelope.encode(e, slab, at);
  }

  #intern(name: string): number {
    const id = this.#nameIds.get(name);
    if (id !== undefined) return id;
    if (name.includes(NAME_SEPARATOR) || name === "") {
      throw new RangeError(
        `actor and topic names must be non-empty and single-line: ${JSON.stringify(name)}`,
      );
    }
    if (this.#names.length > 0xffff) {
      throw new RangeError("a link can route to at most 65535 distinct names");
    }
    const next = this.#names.length;
    this.#names.push(name);
    this.#nameIds.set(name, next);
    if (this.#session?.open === true) {
      this.#ctlWrite(Announce, { kind: ANNOUNCE_NAMES, first: next, a: name, b: "" });
    }
    return next;
  }

  #queuePresence(): void {
    const a = this.#announcement;
    this.#ctlWrite(Announce, {
      kind: ANNOUNCE_PRESENCE,
      first: 0,
      a: a.actors.join(NAME_SEPARATOR),
      b: a.topics.join(NAME_SEPARATOR),
    });
  }

  #queueAck(): void {
    if (this.#session?.open !== true) return;
    if (this.#hbAt >= 0) {
      // Update the queued heartbeat's count in place (f64, little-endian, after the header).
      this.#f64[0] = this.#received;
      this.#ctl.set(this.#f64Bytes, this.#hbAt + 12);
    } else {
      this.#hbAt = this.#ctlAt;
      this.#ctlWrite(Heartbeat, { received: this.#received });
    }
    this.#ackedReceived = this.#received;
    this.#kick();
  }

  /** Asks the peer to acknowledge now (a heartbeat flagged FLAG_ACK_REQUEST). */
  #requestAck(): void {
    if (this.#session?.open !== true) return;
    const at = this.#ctlAt;
    this.#ctlWrite(Heartbeat, { received: this.#received });
    this.#ctl[at + HEADER_OFFSET.flags] = FLAG_ACK_REQUEST;
    this.#ackedReceived = this.#received;
    this.#kick();
  }

  #ctlWrite<F extends Fields>(
    type: MessageType<F>,
    message: Parameters<MessageType<F>["encode"]>[0],
  ): void {
    const size = type.encodedSize(message);
    if (this.#ctl.length - this.#ctlAt < size) {
      const bigger = new Uint8Array(Math.max(this.#ctl.length * 2, this.#ctlAt + size));
      bigger.set(this.#ctl.subarray(0, this.#ctlAt));
      this.#ctl = bigger;
    }
    this.#ctlAt = type.encode(message, this.#ctl, this.#ctlAt);
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    this.#kick();
  };

  #kick(): void {
    const s = this.#session;
    if (this.#writing || s === undefined || !s.open || s.writeFailed) return;
    if (this.#ctlAt === 0 && !this.#outbox.hasWork) return;
    this.#writing = true;
    this.#writer = this.#writeLoop(s);
  }

  async #writeLoop(s: Session): Promise<void> {
    try {
      while (s === this.#session && s.open) {
        let bytes: Uint8Array;
        if (this.#ctlAt > 0) {
          bytes = this.#ctl.subarray(0, this.#ctlAt);
          const spare = this.#ctlSpare;
          this.#ctlSpare = this.#ctl;
          this.#ctl = spare;
          this.#ctlAt = 0;
          this.#hbAt = -1;
          // A small data segment rides in the same write (one syscall for ack + reply).
          const next = this.#outbox.nextSize();
          if (next > 0 && next <= COMBINE_MAX) {
            const seg = this.#outbox.take()!;
            const n = bytes.length + next;
            if (this.#scratch.length < n) {
              this.#scratch = new Uint8Array(Math.max(n, 2 * COMBINE_MAX));
            }
            this.#scratch.set(bytes);
            this.#scratch.set(seg.buf.subarray(seg.start, seg.end), bytes.length);
            bytes = this.#scratch.subarray(0, n);
          }
        } else {
          const seg = this.#outbox.take();
          if (seg === undefined) break;
          bytes = seg.buf.subarray(seg.start, seg.end);
        }
        const n = await s.stream.write(bytes);
        if (n < bytes.length) await writeAll(s.stream, bytes.subarray(n));
        s.lastSentAt = Date.now();
        if (this.#paced && this.#outbox.pendingBytes < PACE_BYTES) {
          // A producer paced by PACE_BYTES may go on.
          this.#paced = false;
          this.#wake();
        }
      }
    } catch (e) {
      const error = toTransportError(e, this.#peer);
      // The read loop ends the session once it has read what the peer sent before closing
      // (a goodbye, usually); a paused read loop is not reading, so end it here.
      if (this.#paused === undefined && s === this.#session && !s.closed) {
        s.writeFailed = true;
      } else this.#endSession(s, error);
    } finally {
      this.#writing = false;
    }
    // Work queued while the last write finished, or a new connection that attached meanwhile
    // (its kick found this loop still busy): start again on the current connection.
    if (this.#ctlAt > 0 || this.#outbox.hasWork) this.#kick();
  }

  #tick(): void {
    const s = this.#session;
    if (s === undefined || !s.open) return;
    const now = Date.now();
    if (this.#paused === undefined && now - s.lastRecvAt > this.#peerTimeoutMs) {
      const error = new TransportError(
        "TRANSPORT_TIMEOUT",
        `no whole frame from peer '${this.#peer}' for ${this.#peerTimeoutMs} ms (dead, stalled or stuck mid-frame)`,
        { peer: this.#peer },
      );
      this.#endSession(s, error);
      return;
    }
    if (this.#received > this.#ackedReceived || now - s.lastSentAt >= this.#heartbeatMs) {
      this.#queueAck();
    }
  }

  #wake(): void {
    const room = this.#room;
    if (room === undefined) return;
    this.#room = undefined;
    room.resolve();
  }

  #finish(error: TransportError | undefined, level: "info" | "error" = "error"): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closing = true;
    this.#finalError = error;
    this.#stop.abort();
    clearInterval(this.#timer);
    const s = this.#session;
    if (s !== undefined) {
      this.#session = undefined;
      s.close();
    }
    const lost = this.#outbox.clear();
    this.stats.undelivered += lost;
    if (lost > 0) {
      this.#log.warn("link closed with undelivered messages", {
        identity: this.#identity,
        peer: this.#peer,
        undelivered: lost,
      });
    }
    if (error !== undefined) {
      this.#log[level]("link closed", { identity: this.#identity, peer: this.#peer, error });
    }
    const room = this.#room;
    this.#room = undefined;
    room?.reject(this.#closedError());
    // Nobody may be waiting: don't let the rejection go unhandled.
    room?.promise.catch(() => {});
    this.#onClosed?.(this);
    this.#call(() => this.#handler.closed?.(this, error));
    this.#closed.resolve(error);
  }

  #closedError(): TransportError {
    return new TransportError(
      "TRANSPORT_CLOSED",
      `link to '${this.#peer || this.#transport.address}' is closed`,
      { peer: this.#peer, address: this.#transport.address, cause: this.#finalError },
    );
  }

  #call(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.stats.handlerErrors++;
      this.#log.error("link handler threw", {
        identity: this.#identity,
        peer: this.#peer,
        error: e,
      });
    }
  }
}

/** Any error as a TransportError (socket errors become `TRANSPORT_CLOSED`). */
export function toTransportError(e: unknown, peer: string): TransportError {
  if (e instanceof TransportError) return e;
  return new TransportError(
    "TRANSPORT_CLOSED",
    `connection to '${peer}' failed: ${e instanceof Error ? e.message : String(e)}`,
    { peer, cause: e },
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
