/**
 * The MessageBus's engine: names, subscriptions, the ready queue, requests,
 * faithful round trips and remote peers. `MessageBus` is its public face;
 * `MonolithBus` uses it directly for its async handlers and the hybrid bridge.
 *
 * Decisions:
 * - One ready ring of cells, drained on one microtask: each cell handles up
 *   to `BATCH` messages per turn (fairness), the run goes on until no cell is
 *   ready, and after `RUN_BUDGET` messages it continues on a timer so I/O
 *   callbacks get a turn.
 * - Publish routes are computed once per message type and cached until an
 *   actor or peer comes or goes.
 * - Request deadlines share one sweep timer, and sending a request reads no
 *   clock: a timer per request, or even one `performance.now()` per request
 *   (~90 ns here), would cost a large part of the round trip. A request's
 *   clock starts at the first sweep after it was sent, and the sweep runs
 *   every 1/64 of the shortest pending timeout (1 ms to 1 s): a request
 *   times out after at least `timeoutMs`, at most about 3 % (or 2 ms) later.
 *   With nothing pending the sweep stops; `close` clears it.
 * - What a handler receives is the same kind of object in every mode: a
 *   plain message. In-process it is the very object sent; in faithful mode a
 *   fresh decode of its encoding per receiver; from a link, one decode of the
 *   link's zero-copy view shared by the local receivers (as in-process
 *   subscribers share the sent object). Actors that asked for views
 *   (`Sub.views`) get the link's view itself, or in faithful mode a view over
 *   the round-tripped frame. A view reaching the bus any other way (an actor
 *   forwarding the view it got) is copied for plain receivers the same way.
 * - Faithful mode encodes plain copies into one reusable slab (decode copies
 *   out of it) and views into bump slabs that are never rewritten, so a view
 *   kept after its handler returns stays valid, as a link's would.
 *
 * @module
 * @internal
 */
import type { Fields, MessageType, MessageView } from "../codec/mod.ts";
import type { ActorSource } from "../actor/actor.ts";
import type { RequestOptions } from "../actor/context.ts";
import type { Logger } from "../logger.ts";
import type { ActorFailure } from "../actor/supervision.ts";
import { BusError, type BusErrorCode, RequestTimeoutError } from "./bus_error.ts";
import { Cell, type CellHost, type CellOptions, Envelope, type Sub } from "./_cell.ts";
import type { AnyMessage, PeerRoutes, RemotePeer } from "./remote_peer.ts";

/** Messages one cell handles before the next ready cell gets a turn. */
const BATCH = 256;
/** Messages handled in one microtask run before yielding to the event loop. */
const RUN_BUDGET = 1 << 16;
/** Longest run of microtask-started drains before the event loop must get a turn, in ms. */
const MAX_STREAK_MS = 20;
/** Size of each faithful-mode view slab (frames larger get their own). */
const VIEW_SLAB_SIZE = 64 * 1024;
/**
 * Largest request id. Ids fit a u32 so links carry them in a fixed field, and
 * stay below 2^30 so V8 keeps them as small integers: a larger number is a
 * heap object, and the pending map then costs about three times as much.
 */
const MAX_REQUEST_ID = 0x3fff_ffff;
/** Default request deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

const KNOWN_CODES: ReadonlySet<string> = new Set<BusErrorCode>([
  "BUS_NO_ROUTE",
  "BUS_NO_HANDLER",
  "BUS_CLOSED",
  "BUS_MAILBOX_FULL",
  "BUS_DROPPED",
  "BUS_ACTOR_STOPPED",
  "BUS_NO_REPLY",
  "BUS_REPLY_TYPE",
  "BUS_HANDLER_FAILED",
  "BUS_NOT_SERIALIZABLE",
]);

/** Whether `message` is a zero-copy view of `type` (`MessageType.isView`, inlined for the hot path). */
function isView(type: MessageType, message: AnyMessage): message is MessageView<Fields> {
  return (message as { readonly type?: unknown }).type === type;
}

/** How often deadlines are swept while a request of `timeoutMs` is pending, in ms. */
function sweepInterval(timeoutMs: number): number {
  return Math.min(1000, Math.max(1, timeoutMs / 64));
}

/** `p`, marked as handled so a caller that drops it does not crash the process. */
function settledQuietly(p: Promise<void>): Promise<void> {
  p.catch(() => {});
  return p;
}

/** Where a published message of one type goes. */
interface PublishRoute {
  readonly subs: readonly Sub[];
  readonly peers: readonly RemotePeer[];
}

/**
 * A request awaiting its reply. It is also the envelope its message carries to
 * a local actor, so a local reply finds it without a lookup; requests to a
 * remote actor are found by id (`#remote`). Every pending request is in one
 * linked list, for the sweep, `detach` and `close`.
 */
class PendingRequest extends Envelope {
  /**
   * `performance.now()` past which the request times out; `Infinity` until
   * the first sweep sees it (a double from the start: a small integer here,
   * later replaced by a double, would change the objects' shape on the hot path).
   */
  deadline = Infinity;
  /** Replied, failed or timed out. */
  done = false;
  prev: PendingRequest | undefined = undefined;
  next: PendingRequest | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    id: number,
    readonly resolve: (m: AnyMessage) => void,
    readonly reject: (e: unknown) => void,
    readonly replyType: MessageType,
    readonly to: string,
    readonly typeName: string,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    /** The link the request went through, if the target is remote. */
    readonly via: RemotePeer | undefined,
  ) {
    super(id, undefined);
  }
}

/** Settings of a core. */
export interface CoreOptions {
  readonly faithful: boolean;
  readonly logger: Logger;
  readonly onFailure: ((failure: ActorFailure) => void) | undefined;
  readonly onEscalate: ((failure: ActorFailure) => void) | undefined;
}

/** What a shutdown did. */
export interface ShutdownReport {
  /** Whether every mailbox drained before the deadline. */
  readonly drained: boolean;
  /** Messages left undelivered (queued or waiting) when actors stopped; counted per actor too. */
  readonly discarded: number;
  /**
   * Requests the shutdown failed: those still pending at close (rejected with
   * `BUS_CLOSED`), and those waiting on a link that closed for good while
   * this bus was shutting down (rejected with `BUS_NO_ROUTE`).
   */
  readonly abandonedRequests: number;
}

/** The engine behind a MessageBus. */
export class BusCore implements CellHost {
  readonly logger: Logger;
  readonly faithful: boolean;
  readonly #controller = new AbortController();
  readonly signal: AbortSignal = this.#controller.signal;
  readonly cells = new Map<string, Cell>();
  readonly #remoteNames = new Map<string, RemotePeer>();
  readonly #peers = new Map<RemotePeer, PeerRoutes>();
  readonly #routes = new Map<MessageType, PublishRoute>();
  readonly #routeListeners = new Set<() => void>();
  /** One-entry cache in front of `#routes`: a stream of one type skips the map. */
  #lastType: MessageType | undefined = undefined;
  #lastRoute: PublishRoute | undefined = undefined;
  readonly #subscriptions = new Map<Cell, ReadonlySet<MessageType | string> | undefined>();
  readonly #onFailure: ((failure: ActorFailure) => void) | undefined;
  readonly #onEscalate: ((failure: ActorFailure) => void) | undefined;
  #ring: (Cell | undefined)[] = new Array<Cell | undefined>(16).fill(undefined);
  #ringHead = 0;
  #ringSize = 0;
  #runPending = false;
  /** See {@linkcode BusCore.#starved}. */
  #streakTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #streakStart = 0;
  #streakRuns = 0;
  #waitingForTurn = false;
  #yieldTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Pending requests, newest first (see {@linkcode PendingRequest}). */
  #pendingHead: PendingRequest | undefined = undefined;
  #pendingCount = 0;
  /** Pending requests to remote actors, by id: their replies come back by id. */
  readonly #remote = new Map<number, PendingRequest>();
  /**
   * Request ids start at a random point, so that a reply meant for an
   * earlier run of this process (resent by a peer after a crash) almost
   * never matches a request of this one.
   */
  #nextRequestId = 1 + (crypto.getRandomValues(new Uint32Array(1))[0]! % (MAX_REQUEST_ID - 1));
  #sweepTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Interval of the armed sweep, in ms. */
  #sweepMs = Infinity;
  #state = OPEN;
  #closing: Promise<ShutdownReport> | undefined = undefined;
  /** Run during close between the mailboxes draining and the actors stopping. */
  readonly #beforeStop = new Set<(timeoutMs: number) => Promise<boolean | void>>();
  #idleWaiters: (() => void)[] = [];
  #slab = new Uint8Array(4096);
  /** Faithful views: frames go at `#viewAt` and onwards; a full slab is replaced, never rewritten. */
  #viewSlab = new Uint8Array(0);
  #viewAt = 0;
  #discardedTotal = 0;
  /** Requests failed by a link that closed for good while this bus was shutting down. */
  #abandonedByLinks = 0;
  /** Messages published with no subscriber anywhere. */
  unrouted = 0;

  constructor(options: CoreOptions) {
    this.logger = options.logger;
    this.faithful = options.faithful;
    this.#onFailure = options.onFailure;
    this.#onEscalate = options.onEscalate;
  }

  get open(): boolean {
    return this.#state === OPEN;
  }

  get closed(): boolean {
    return this.#state === CLOSED;
  }

  get pendingRequests(): number {
    return this.#pendingCount;
  }

  // ---- actors ---------------------------------------------------------------

  spawn(
    name: string,
    source: ActorSource,
    options: CellOptions,
    subscribe: readonly (MessageType | string)[] | undefined,
  ): Cell {
    this.assertOpen();
    if (typeof name !== "string" || name.length === 0) {
      throw new BusError("BUS_INVALID_OPTION", "an actor's name must be a non-empty string");
    }
    if (this.cells.has(name)) {
      throw new BusError("BUS_DUPLICATE_NAME", `an actor named '${name}' already runs`, {
        actor: name,
      });
    }
    const cell = new Cell(name, source, this, options);
    for (const entry of subscribe ?? []) {
      if (typeof entry !== "string" && !cell.subs.has(entry)) {
        throw new BusError(
          "BUS_INVALID_OPTION",
          `actor '${name}' subscribes to ${entry.name} but has no handler for it`,
          { actor: name, messageType: entry.name },
        );
      }
    }
    this.cells.set(name, cell);
    this.#subscriptions.set(cell, subscribe === undefined ? undefined : new Set(subscribe));
    if (this.#ringSize === 0 && this.cells.size > this.#ring.length) this.#growRing();
    this.#routesChanged();
    cell.start();
    return cell;
  }

  removeCell(cell: Cell): void {
    if (this.cells.get(cell.name) === cell) {
      this.cells.delete(cell.name);
      this.#subscriptions.delete(cell);
      this.#routesChanged();
    }
  }

  #routesChanged(): void {
    this.#routes.clear();
    this.#lastType = undefined;
    this.#lastRoute = undefined;
    for (const listener of this.#routeListeners) listener();
  }

  onRoutesChange(listener: () => void): () => void {
    this.#routeListeners.add(listener);
    return () => this.#routeListeners.delete(listener);
  }

  #subscribes(cell: Cell, type: MessageType): boolean {
    const set = this.#subscriptions.get(cell);
    return set === undefined || set.has(type) || set.has(type.topic);
  }

  /** Every message type some local actor handles. */
  handledTypes(): MessageType[] {
    const types = new Set<MessageType>();
    for (const cell of this.cells.values()) for (const type of cell.subs.keys()) types.add(type);
    return [...types];
  }

  hostedRoutes(): PeerRoutes {
    const types = new Set<MessageType>();
    const topics = new Set<string>();
    for (const [cell, set] of this.#subscriptions) {
      if (set === undefined) {
        for (const type of cell.subs.keys()) types.add(type);
        continue;
      }
      for (const entry of set) {
        if (typeof entry === "string") topics.add(entry);
        else if (cell.subs.has(entry)) types.add(entry);
      }
    }
    return { actors: [...this.cells.keys()], types: [...types], topics: [...topics] };
  }

  // ---- scheduling -------------------------------------------------------------

  #growRing(): void {
    let size = this.#ring.length;
    while (size < this.cells.size * 2) size *= 2;
    const ring = new Array<Cell | undefined>(size).fill(undefined);
    for (let i = 0; i < this.#ringSize; i++) {
      ring[i] = this.#ring[(this.#ringHead + i) & (this.#ring.length - 1)];
    }
    this.#ring = ring;
    this.#ringHead = 0;
  }

  schedule(cell: Cell): void {
    cell.scheduled = true;
    if (this.#ringSize === this.#ring.length) this.#growRing();
    this.#ring[(this.#ringHead + this.#ringSize) & (this.#ring.length - 1)] = cell;
    this.#ringSize++;
    if (!this.#runPending) {
      this.#runPending = true;
      queueMicrotask(this.#run);
    }
  }

  #yieldToEventLoop(): void {
    this.#yieldTimer = setTimeout(() => {
      this.#yieldTimer = undefined;
      this.#run();
    }, 0);
  }

  /**
   * Runs started from microtasks (a reply waking its requester, say) can
   * follow each other without the event loop ever getting a turn. Every 64th
   * run with no timer armed arms one (a 0 ms timer marks the loop's next turn)
   * and notes the time; if, at a later 64th run, that timer has not fired and
   * {@linkcode MAX_STREAK_MS} have passed, the next run waits for it, so
   * timers, I/O and signal handlers are never starved. Arming only every 64
   * runs keeps timers off the path of a lone message: a timer per run costs a
   * request/reply between processes far more than the run itself.
   */
  #starved(): boolean {
    if ((++this.#streakRuns & 63) !== 0) return false;
    if (this.#streakTimer === undefined) {
      this.#streakStart = performance.now();
      this.#streakTimer = setTimeout(this.#endStreak, 0);
      return false;
    }
    return performance.now() - this.#streakStart > MAX_STREAK_MS;
  }

  readonly #endStreak = (): void => {
    this.#streakTimer = undefined;
    if (this.#waitingForTurn) {
      this.#waitingForTurn = false;
      this.#run();
    }
  };

  readonly #run = (): void => {
    if (this.#starved()) {
      // #runPending stays set: #endStreak runs the ring on the loop's next turn.
      this.#waitingForTurn = true;
      return;
    }
    try {
      if (this.#runLoop()) return;
    } catch (error) {
      // Cells catch their handlers' errors; this is a last line of defence
      // so one bug cannot stall every actor.
      this.logger.error("scheduler error", { error });
      if (this.#ringSize > 0) {
        queueMicrotask(this.#run);
        return;
      }
    }
    this.#runPending = false;
    this.checkIdle();
  };

  /** Drains ready cells; true when it yielded to the event loop (a timer continues). */
  #runLoop(): boolean {
    let budget = RUN_BUDGET;
    while (this.#ringSize > 0) {
      const mask = this.#ring.length - 1;
      const cell = this.#ring[this.#ringHead]!;
      this.#ring[this.#ringHead] = undefined;
      this.#ringHead = (this.#ringHead + 1) & mask;
      this.#ringSize--;
      cell.scheduled = false;
      if (cell.blocked || cell.stopped) continue;
      budget -= cell.drain(BATCH);
      if (!cell.scheduled && !cell.blocked && !cell.stopped && cell.mailbox.size > 0) {
        this.schedule(cell);
      }
      if (budget <= 0 && this.#ringSize > 0) {
        this.#yieldToEventLoop();
        return true;
      }
    }
    return false;
  }

  checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#runPending) return;
    for (const cell of this.cells.values()) if (!cell.quiet) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves true once every actor is quiet, or false after `timeoutMs`. */
  idle(timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (value: boolean) => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.#idleWaiters.indexOf(wake);
        if (i >= 0) this.#idleWaiters.splice(i, 1);
        resolve(value);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      if (signal?.aborted) return resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
      this.#idleWaiters.push(wake);
      this.checkIdle();
    });
  }

  // ---- failures ---------------------------------------------------------------

  report(failure: ActorFailure): void {
    this.logger.error(`actor '${failure.actor}' failed in ${failure.phase}`, {
      actor: failure.actor,
      messageType: failure.messageType,
      action: failure.action,
      restarts: failure.restarts,
      error: failure.error,
    });
    if (this.#onFailure !== undefined) {
      try {
        this.#onFailure(failure);
      } catch (error) {
        this.logger.error("onFailure callback threw", { error });
      }
    }
  }

  escalate(failure: ActorFailure): void {
    if (this.#onEscalate !== undefined) {
      try {
        this.#onEscalate(failure);
      } catch (error) {
        this.logger.error("onEscalate callback threw", { error });
      }
      return;
    }
    this.logger.error(`escalated failure of actor '${failure.actor}': shutting the bus down`);
    void this.close(1_000);
  }

  // ---- delivery ---------------------------------------------------------------

  assertOpen(): void {
    if (this.#state !== OPEN) {
      throw new BusError("BUS_CLOSED", "the bus is shutting down or closed");
    }
  }

  #assertNotClosed(): void {
    if (this.#state === CLOSED) throw new BusError("BUS_CLOSED", "the bus is closed");
  }

  /**
   * Encodes `message` and decodes it again (faithful mode): a plain copy, or
   * with `asView` a view over the encoded frame.
   */
  roundTrip(type: MessageType, message: AnyMessage, asView = false): AnyMessage {
    try {
      const size = type.encodedSize(message);
      if (asView) {
        if (this.#viewAt + size > this.#viewSlab.length) {
          this.#viewSlab = new Uint8Array(Math.max(size, VIEW_SLAB_SIZE));
          this.#viewAt = 0;
        }
        const at = this.#viewAt;
        this.#viewAt = type.encode(message, this.#viewSlab, at);
        return type.view(this.#viewSlab, at);
      }
      if (size > this.#slab.length) {
        this.#slab = new Uint8Array(Math.max(size, this.#slab.length * 2));
      }
      type.encode(message, this.#slab, 0);
      return type.decode(this.#slab, 0);
    } catch (error) {
      throw new BusError(
        "BUS_NOT_SERIALIZABLE",
        `${type.name} does not survive the codec round trip (faithful mode): ${
          error instanceof Error ? error.message : String(error)
        }`,
        { messageType: type.name, cause: error },
      );
    }
  }

  /**
   * What `sub` receives for `message`: a faithful round trip, a plain copy
   * of a view for an actor that did not ask for views, or `message` itself.
   */
  forSub(sub: Sub, type: MessageType, message: AnyMessage): AnyMessage {
    if (this.faithful) return this.roundTrip(type, message, sub.views);
    if (!sub.views && isView(type, message)) return message.toObject();
    return message;
  }

  send(to: string, type: MessageType, message: AnyMessage): void | Promise<void> {
    this.#assertNotClosed();
    return this.sendWith(to, type, message, undefined);
  }

  sendWith(
    to: string,
    type: MessageType,
    message: AnyMessage,
    meta: Envelope | undefined,
  ): void | Promise<void> {
    const cell = this.cells.get(to);
    if (cell !== undefined) {
      const sub = cell.subs.get(type);
      if (sub === undefined) {
        throw new BusError("BUS_NO_HANDLER", `actor '${to}' has no handler for ${type.name}`, {
          actor: to,
          messageType: type.name,
        });
      }
      const delivered = this.forSub(sub, type, message);
      if (cell.direct !== undefined && cell.direct(type, delivered, meta)) return;
      return cell.push(sub, delivered, meta);
    }
    const peer = this.#remoteNames.get(to);
    if (peer !== undefined) return peer.send(to, type, message, meta === undefined ? 0 : meta.id);
    throw new BusError("BUS_NO_ROUTE", `no actor named '${to}' is reachable`, {
      actor: to,
      messageType: type.name,
    });
  }

  #route(type: MessageType): PublishRoute {
    const subs: Sub[] = [];
    for (const cell of this.cells.values()) {
      const sub = cell.subs.get(type);
      if (sub !== undefined && this.#subscribes(cell, type)) subs.push(sub);
    }
    const peers: RemotePeer[] = [];
    for (const [peer, routes] of this.#peers) {
      if (routes.types.includes(type) || routes.topics.includes(type.topic)) peers.push(peer);
    }
    const route = { subs, peers };
    this.#routes.set(type, route);
    return route;
  }

  /** Whether anything (a peer, or a local cell not in `members`) subscribes to `type`. */
  hasSubscribersBeyond(type: MessageType, members: ReadonlySet<Cell>): boolean {
    const route = this.#routes.get(type) ?? this.#route(type);
    if (route.peers.length > 0) return true;
    for (const sub of route.subs) if (!members.has(sub.cell)) return true;
    return false;
  }

  publish(type: MessageType, message: AnyMessage): void | Promise<void> {
    this.#assertNotClosed();
    if (this.#hooks.size !== 0) {
      const hook = this.#hooks.get(type);
      if (hook !== undefined) return hook(message);
    }
    return this.publishExcept(type, message, undefined, true);
  }

  /**
   * Makes `publish` of `type` (from actors or outside callers here; not
   * what peers deliver) call `hook` instead: a MonolithBus's route emitter,
   * which calls its targets directly and publishes to everyone else.
   * Returns the function that removes it.
   */
  setPublishHook(
    type: MessageType,
    hook: (message: AnyMessage) => void | Promise<void>,
  ): () => void {
    this.#hooks.set(type, hook);
    return () => {
      if (this.#hooks.get(type) === hook) this.#hooks.delete(type);
    };
  }

  readonly #hooks = new Map<MessageType, (message: AnyMessage) => void | Promise<void>>();

  /**
   * Delivers to every local subscriber not in `except`, and to subscribed
   * peers when `remote`. Every destination is tried; the first error is
   * thrown after all were.
   */
  publishExcept(
    type: MessageType,
    message: AnyMessage,
    except: ReadonlySet<Cell> | undefined,
    remote: boolean,
  ): void | Promise<void> {
    let route: PublishRoute;
    if (type === this.#lastType) {
      route = this.#lastRoute!;
    } else {
      route = this.#routes.get(type) ?? this.#route(type);
      this.#lastType = type;
      this.#lastRoute = route;
    }
    const subs = route.subs;
    let waits: Promise<void>[] | undefined;
    let error: unknown;
    const view = isView(type, message);
    if (except === undefined && !this.faithful && !view) {
      // Hot path: one try region around the loop; a throw resumes after the
      // failed subscriber so every destination is still tried.
      let i = 0;
      while (i < subs.length) {
        try {
          for (; i < subs.length; i++) {
            const sub = subs[i]!;
            const r = sub.cell.push(sub, message, undefined);
            if (r !== undefined) (waits ??= []).push(r);
          }
        } catch (e) {
          error ??= e;
          i++;
        }
      }
    } else {
      // A view's plain copy is made once and shared, as a sent object is.
      let plain: AnyMessage | undefined;
      for (let i = 0; i < subs.length; i++) {
        const sub = subs[i]!;
        if (except !== undefined && except.has(sub.cell)) continue;
        try {
          const m = this.faithful
            ? this.roundTrip(type, message, sub.views)
            : view && !sub.views
            ? (plain ??= (message as MessageView<Fields>).toObject())
            : message;
          const r = sub.cell.push(sub, m, undefined);
          if (r !== undefined) (waits ??= []).push(r);
        } catch (e) {
          error ??= e;
        }
      }
    }
    const peers = remote ? route.peers : [];
    for (let i = 0; i < peers.length; i++) {
      try {
        const r = peers[i]!.publish(type, message);
        if (r !== undefined) (waits ??= []).push(r);
      } catch (e) {
        error ??= e;
      }
    }
    if (subs.length === 0 && peers.length === 0) this.unrouted++;
    if (error !== undefined) {
      // Waits already queued stay queued; their promises must not float.
      if (waits !== undefined) { for (const w of waits) w.catch(() => {}); }
      throw error;
    }
    if (waits === undefined) return;
    return waits.length === 1 ? waits[0] : settledQuietly(Promise.all(waits).then(() => {}));
  }

  // ---- requests ---------------------------------------------------------------

  request(
    to: string,
    type: MessageType,
    message: AnyMessage,
    options: RequestOptions,
  ): Promise<AnyMessage> {
    this.#assertNotClosed();
    const replyType = options.reply;
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(
        new BusError(
          "BUS_INVALID_OPTION",
          `timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`,
        ),
      );
    }
    const signal = options.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new BusError("BUS_ABORTED", `request ${type.name} to '${to}' aborted`, {
          actor: to,
          messageType: type.name,
          cause: signal.reason,
        }),
      );
    }
    const id = this.#nextRequestId;
    this.#nextRequestId = id === MAX_REQUEST_ID ? 1 : id + 1;
    const { promise, resolve, reject } = Promise.withResolvers<AnyMessage>();
    const via = this.cells.has(to) ? undefined : this.#remoteNames.get(to);
    const p = new PendingRequest(
      id,
      resolve,
      reject,
      replyType,
      to,
      type.name,
      timeoutMs,
      signal,
      via,
    );
    const head = this.#pendingHead;
    if (head !== undefined) head.prev = p;
    p.next = head;
    this.#pendingHead = p;
    this.#pendingCount++;
    if (via !== undefined) this.#remote.set(id, p);
    if (signal !== undefined) {
      p.onAbort = () =>
        this.#fail(
          p,
          new BusError("BUS_ABORTED", `request ${type.name} to '${to}' aborted`, {
            actor: to,
            messageType: type.name,
            cause: signal.reason,
          }),
        );
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    const every = sweepInterval(timeoutMs);
    if (every < this.#sweepMs) this.#armSweep(every);
    try {
      const r = this.sendWith(to, type, message, p);
      if (r !== undefined) r.catch((error) => this.#fail(p, error));
    } catch (error) {
      this.#fail(p, error);
    }
    return promise;
  }

  #armSweep(every: number): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepMs = every;
    this.#sweepTimer = setTimeout(this.#sweep, every);
  }

  readonly #sweep = (): void => {
    this.#sweepTimer = undefined;
    this.#sweepMs = Infinity;
    const now = performance.now();
    let every = Infinity;
    for (let p = this.#pendingHead; p !== undefined;) {
      const next = p.next;
      // A request sent since the last sweep starts its clock now.
      if (p.deadline === Infinity) p.deadline = now + p.timeoutMs;
      if (p.deadline <= now) {
        this.#fail(p, new RequestTimeoutError(p.to, p.typeName, p.timeoutMs));
      } else {
        every = Math.min(every, sweepInterval(p.timeoutMs));
      }
      p = next;
    }
    if (every !== Infinity) this.#armSweep(every);
  };

  /** Rejects pending request `p` with `error`; false when it was no longer pending. */
  #fail(p: PendingRequest, error: unknown): boolean {
    if (!this.#take(p)) return false;
    p.reject(error);
    return true;
  }

  /** Takes `p` out of the pending requests; false when it was already out. */
  #take(p: PendingRequest): boolean {
    if (p.done) return false;
    p.done = true;
    const { prev, next } = p;
    if (prev === undefined) this.#pendingHead = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    p.prev = undefined;
    p.next = undefined;
    this.#pendingCount--;
    if (p.via !== undefined) this.#remote.delete(p.id);
    if (p.onAbort !== undefined) p.signal!.removeEventListener("abort", p.onAbort);
    return true;
  }

  /** Completes pending request `id` (sent to a remote actor) with a reply. */
  complete(id: number, type: MessageType, message: AnyMessage): boolean {
    const p = this.#remote.get(id);
    if (p === undefined) {
      this.logger.debug("reply to a request no longer pending", { id, messageType: type.name });
      return false;
    }
    return this.#complete(p, type, message);
  }

  #complete(p: PendingRequest, type: MessageType, message: AnyMessage): boolean {
    if (!this.#take(p)) {
      this.logger.debug("reply to a request no longer pending", {
        id: p.id,
        messageType: type.name,
      });
      return false;
    }
    if (type !== p.replyType) {
      p.reject(
        new BusError(
          "BUS_REPLY_TYPE",
          `request ${p.typeName} to '${p.to}' expected a ${p.replyType.name} reply, got ${type.name}`,
          { actor: p.to, messageType: type.name },
        ),
      );
      return true;
    }
    // A requester gets a plain reply, whether it came over a link (a view) or not.
    p.resolve(isView(type, message) ? message.toObject() : message);
    return true;
  }

  reply(envelope: Envelope, type: MessageType, message: AnyMessage): void {
    const peer = envelope.peer;
    if (peer !== undefined) {
      this.#toPeer(peer, () => peer.reply(envelope.id, type, message));
      return;
    }
    // A local request's envelope is its pending request.
    this.#complete(
      envelope as PendingRequest,
      type,
      this.faithful ? this.roundTrip(type, message) : message,
    );
  }

  failRequest(envelope: Envelope, error: BusError): void {
    const peer = envelope.peer;
    if (peer !== undefined) {
      this.#toPeer(peer, () => peer.fail(envelope.id, error.code, error.message));
      return;
    }
    this.#fail(envelope as PendingRequest, error);
  }

  /**
   * Hands a reply or failure to a link. A link that refuses it (throws or
   * rejects) is logged: the remote requester then times out, with a typed
   * error, rather than this bus's scheduler breaking.
   */
  #toPeer(peer: RemotePeer, carry: () => void | Promise<void>): void {
    const report = (error: unknown) =>
      this.logger.error("link failed to carry a reply", { peer: peer.id, error });
    try {
      const r = carry();
      if (r !== undefined) r.catch(report);
    } catch (error) {
      report(error);
    }
  }

  // ---- remote peers -----------------------------------------------------------

  attach(peer: RemotePeer, routes: PeerRoutes): void {
    this.#detach(peer);
    this.#peers.set(peer, routes);
    for (const name of routes.actors) {
      if (this.cells.has(name)) {
        this.logger.warn(`peer '${peer.id}' hosts actor '${name}', also local: local wins`);
      }
      this.#remoteNames.set(name, peer);
    }
    this.#routesChanged();
  }

  /** Removes a peer's routes; requests that went through it fail with `BUS_NO_ROUTE`. */
  detach(peer: RemotePeer): void {
    this.#detach(peer);
    for (let p = this.#pendingHead; p !== undefined;) {
      const next = p.next;
      if (p.via === peer) {
        const failed = this.#fail(
          p,
          new BusError("BUS_NO_ROUTE", `link to '${peer.id}' closed before the reply came`, {
            actor: p.to,
            messageType: p.typeName,
          }),
        );
        // The peer left because the deployment is stopping: the shutdown abandoned it.
        if (failed && this.#state !== OPEN) this.#abandonedByLinks++;
      }
      p = next;
    }
  }

  #detach(peer: RemotePeer): void {
    if (!this.#peers.delete(peer)) return;
    for (const [name, p] of this.#remoteNames) if (p === peer) this.#remoteNames.delete(name);
    this.#routesChanged();
  }

  deliver(
    peer: RemotePeer,
    to: string,
    type: MessageType,
    message: AnyMessage,
    requestId: number,
  ): void | Promise<void> {
    const meta = requestId === 0 ? undefined : new Envelope(requestId, peer);
    try {
      this.#assertNotClosed();
      const cell = this.cells.get(to);
      if (cell === undefined) {
        throw new BusError("BUS_NO_ROUTE", `no actor named '${to}' runs here`, {
          actor: to,
          messageType: type.name,
        });
      }
      return this.sendWith(to, type, message, meta);
    } catch (error) {
      if (meta !== undefined && error instanceof BusError) this.failRequest(meta, error);
      throw error;
    }
  }

  deliverPublished(type: MessageType, message: AnyMessage): void | Promise<void> {
    this.#assertNotClosed();
    return this.publishExcept(type, message, undefined, false);
  }

  deliverFailure(requestId: number, code: string, message: string): boolean {
    const known = KNOWN_CODES.has(code) ? code as BusErrorCode : "BUS_HANDLER_FAILED";
    const p = this.#remote.get(requestId);
    return p !== undefined && this.#fail(p, new BusError(known, message));
  }

  // ---- shutdown ---------------------------------------------------------------

  /** See {@linkcode MessageBus.beforeStop}. */
  beforeStop(hook: (timeoutMs: number) => Promise<boolean | void>): () => void {
    const own = (ms: number) => hook(ms);
    this.#beforeStop.add(own);
    return () => void this.#beforeStop.delete(own);
  }

  close(deadlineMs: number): Promise<ShutdownReport> {
    if (this.#closing === undefined) {
      this.#state = CLOSING;
      // Taken before the abort: an actor may stop at once on it (a restart it cancels), and what
      // such an actor discards counts, and its stop hook is waited for, like the others'.
      const present = new Set(this.cells.values());
      this.#controller.abort(new BusError("BUS_CLOSED", "the bus is shutting down"));
      this.#closing = this.#shutdown(deadlineMs, present);
    }
    return this.#closing;
  }

  /** `present`: the cells when the close began (those that stop on their own leave `cells`). */
  async #shutdown(deadlineMs: number, present: Set<Cell>): Promise<ShutdownReport> {
    const began = performance.now();
    let drained = await this.idle(deadlineMs, undefined);
    if (drained && this.#beforeStop.size > 0) {
      // E.g. linked processes still sending here: the actors keep running (and the bus keeps
      // taking deliveries) until they are done, within what is left of the deadline.
      const left = () => Math.max(0, deadlineMs - (performance.now() - began));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hooks = [...this.#beforeStop].map((hook) =>
        hook(left()).catch((error) => {
          this.logger.error("a before-stop hook failed", { error });
          return false;
        })
      );
      // A hook that did not finish in time, or says it could not, means the drain did not.
      const finished = await Promise.race([
        Promise.all(hooks).then((results) => results.every((r) => r !== false)),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), left())),
      ]);
      clearTimeout(timer);
      drained = (await this.idle(left(), undefined)) && finished;
    }
    for (const cell of this.cells.values()) present.add(cell);
    // `stop` is idempotent: for a cell already stopping, this waits for that stop to end.
    await Promise.all([...present].map((cell) => cell.stop(drained)));
    let discarded = 0;
    for (const cell of present) discarded += cell.stats().discarded;
    this.#discardedTotal += discarded;
    const abandoned = this.#pendingCount + this.#abandonedByLinks;
    while (this.#pendingHead !== undefined) {
      this.#fail(
        this.#pendingHead,
        new BusError("BUS_CLOSED", "the bus closed before the reply came"),
      );
    }
    if (this.#yieldTimer !== undefined) clearTimeout(this.#yieldTimer);
    this.#yieldTimer = undefined;
    if (this.#streakTimer !== undefined) clearTimeout(this.#streakTimer);
    this.#streakTimer = undefined;
    // Every cell has stopped: nothing is left to run, whatever the scheduler had planned.
    this.#ring.fill(undefined);
    this.#ringHead = 0;
    this.#ringSize = 0;
    this.#runPending = false;
    this.#waitingForTurn = false;
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#sweepMs = Infinity;
    this.#state = CLOSED;
    this.checkIdle();
    return { drained, discarded, abandonedRequests: abandoned };
  }
}
