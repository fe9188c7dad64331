/**
 * The MessageBus: the runtime router of Mycelium. Spawns named actors, routes
 * point-to-point messages by name and published ones by message type or
 * topic, delivers locally through bounded mailboxes and remotely through
 * attached {@linkcode RemotePeer}s.
 *
 * @module
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";
import type { ActorSource } from "../actor/actor.ts";
import type { RequestOptions } from "../actor/context.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import type { ActorFailure, SupervisionPolicy } from "../actor/supervision.ts";
import { BusCore, type ShutdownReport } from "./_core.ts";
import type { ActorStats, Cell } from "./_cell.ts";
import { BusError } from "./bus_error.ts";
import type { MailboxOptions } from "./mailbox.ts";
import type { DeliveryTiming } from "../metrics/delivery_timing.ts";
import type { AnyMessage, PeerRoutes, RemotePeer } from "./remote_peer.ts";

export type { ActorStats } from "./_cell.ts";
export type { ShutdownReport } from "./_core.ts";

/** Options of {@linkcode MessageBus}. */
export interface MessageBusOptions {
  /**
   * Round-trip every in-process message through the codec (encode, then
   * decode a fresh object per receiver), so a monolith run shows what only a
   * split deployment would: data the codec cannot carry, reliance on shared
   * mutation, extra properties. Receivers get exactly what a link would hand
   * them: plain messages, or views for actors that asked for them
   * ({@linkcode SpawnOptions.views}). Slower; meant for tests. Default: false.
   */
  faithful?: boolean;
  /** Where the runtime and actors log. Default: nowhere ({@linkcode NULL_LOGGER}). */
  logger?: Logger;
  /** Called with every failure (after it is logged). Default: none. */
  onFailure?: (failure: ActorFailure) => void;
  /**
   * Called when an actor with the `escalate` policy fails. Default: log and
   * close the bus (the process supervisor decides what comes next).
   */
  onEscalate?: (failure: ActorFailure) => void;
}

/** Options of {@linkcode MessageBus.spawn}. */
export interface SpawnOptions {
  /** The actor's mailbox. Default: capacity 1024, overflow `wait`. */
  mailbox?: MailboxOptions;
  /** What happens when a handler fails. Default: restart, 3 times in 10 s. */
  supervision?: SupervisionPolicy;
  /**
   * Times the first delivery and then one in `timing.sampleEvery`, from the moment it entered
   * the mailbox to the start of its handler, into `timing.hop` when nothing
   * was queued ahead of it and `timing.queued` otherwise (see
   * {@linkcode DeliveryTiming}). Two clock reads per sampled delivery, none
   * for the others. Default: not measured.
   */
  timing?: DeliveryTiming;
  /**
   * Published messages the actor receives: message types and topics (it gets
   * those of its handled types that match). Default: every type it handles.
   * `[]` makes it reachable by name only.
   */
  subscribe?: readonly (MessageType | string)[];
  /**
   * Zero-copy delivery for these message types (`true`: every type the
   * actor handles). A message of such a type that arrives from another
   * process reaches the handler as the link's `MessageView`: no
   * decode, fields read from the link's read buffer on access (that buffer
   * is never rewritten, so a kept view stays valid, but keeping one keeps
   * the whole buffer alive). In faithful mode the handler gets a view over
   * the round-tripped frame; otherwise, from this process, the object sent.
   * (A `MonolithBus` sync member always gets plain messages; an async one
   * honours this option through its `spawn` options.)
   *
   * So a handler that opts in must read fields by name only: a view's
   * fields are invisible to spread, `Object.keys` and `structuredClone`. To
   * keep a plain copy, use `T.isView(m) ? m.toObject() : m`. Test it under
   * `faithful: true`, which shows what a split deployment would.
   *
   * Default: none; every handler receives plain messages, the same kind of
   * object in every mode (see `Message` in the codec).
   */
  views?: boolean | readonly MessageType[];
}

/** Options of {@linkcode MessageBus.close}. */
export interface CloseOptions {
  /** How long to let mailboxes drain before stopping actors anyway, in ms. Default: 5000. */
  deadlineMs?: number;
}

/** Bus-wide counters. */
export interface BusStats {
  /** Actors running here. */
  readonly actors: number;
  /** Requests awaiting a reply. */
  readonly pendingRequests: number;
  /** Published messages that had no subscriber anywhere. */
  readonly unrouted: number;
}

/**
 * A handle on a spawned actor: send to it without a name lookup, read its
 * counters, stop it.
 */
export interface ActorRef {
  /** The actor's name. */
  readonly name: string;
  /** Sends to this actor (see {@linkcode MessageBus.send}). */
  send<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void>;
  /** Its counters: queued, handled, failed, dropped, discarded, restarts. */
  stats(): ActorStats;
  /**
   * Stops it: it leaves the routes, queued messages are discarded (counted,
   * their requesters told), then its `stop` hook runs. Idempotent.
   */
  stop(): Promise<void>;
}

class LocalActorRef implements ActorRef {
  readonly name: string;
  readonly #cell: Cell;
  readonly #core: BusCore;

  constructor(cell: Cell, core: BusCore) {
    this.name = cell.name;
    this.#cell = cell;
    this.#core = core;
  }

  send<F extends Fields>(type: MessageType<F>, message: Readonly<Infer<F>>): void | Promise<void> {
    this.#core.assertOpen();
    const sub = this.#cell.subs.get(type);
    if (sub === undefined) {
      throw new BusError("BUS_NO_HANDLER", `actor '${this.name}' has no handler for ${type.name}`, {
        actor: this.name,
        messageType: type.name,
      });
    }
    return this.#cell.push(sub, this.#core.forSub(sub, type, message), undefined);
  }

  stats(): ActorStats {
    return this.#cell.stats();
  }

  stop(): Promise<void> {
    return this.#cell.stop();
  }
}

/**
 * The runtime router.
 *
 * Delivery rules:
 * - one message at a time per actor, in arrival order; FIFO per
 *   sender→receiver pair (every path keeps the order of calls);
 * - a handler receives a plain message whatever its origin: a local
 *   subscriber the very object published (no copy, typed readonly), unless
 *   `faithful` is set; a message from another process is decoded once from
 *   the link's read buffer into a plain object (its byte fields owned, so it
 *   can be kept), unless the actor asked for zero-copy views
 *   ({@linkcode SpawnOptions.views});
 * - mailboxes are bounded and drained in batches on one microtask (no promise
 *   per message); `send`/`publish` return a promise only when a `wait`
 *   mailbox is full;
 * - a handler that throws or rejects is reported with actor, message type and
 *   error, and its actor is restarted, stopped or escalated by its policy.
 *
 * Calls from outside actors (`bus.send`, `bus.publish`, `bus.request`) are
 * refused once `close()` began; actors may still send while mailboxes drain,
 * so a pipeline empties completely.
 *
 * @example Spawn an actor, publish to it, shut down
 * ```ts
 * import { MessageBus } from "./message_bus.ts";
 * import { type Actor, on } from "../actor/mod.ts";
 * import { defineMessage, field } from "../codec/mod.ts";
 *
 * const V2Swap = defineMessage({
 *   id: 1,
 *   name: "V2Swap",
 *   fields: {
 *     poolAddress: field.bytes(20), token0: field.bytes(20), token1: field.bytes(20),
 *     amountIn: field.bytes(32), amountOut: field.bytes(32), timestampNs: field.u64(),
 *   },
 * });
 *
 * class Counter implements Actor {
 *   swaps = 0;
 *   readonly handlers = [on(V2Swap, () => void this.swaps++)];
 * }
 * const counter = new Counter();
 * await using bus = new MessageBus();
 * bus.spawn("counter", counter);
 * const swap = {
 *   poolAddress: new Uint8Array(20), token0: new Uint8Array(20), token1: new Uint8Array(20),
 *   amountIn: new Uint8Array(32), amountOut: new Uint8Array(32), timestampNs: 1n,
 * };
 * await bus.publish(V2Swap, swap);
 * await bus.idle();
 * if (counter.swaps !== 1) throw new Error("unreachable");
 * ```
 */
export class MessageBus implements AsyncDisposable {
  readonly #core: BusCore;

  /** Creates a bus. */
  constructor(options: MessageBusOptions = {}) {
    this.#core = new BusCore({
      faithful: options.faithful ?? false,
      logger: options.logger ?? NULL_LOGGER,
      onFailure: options.onFailure,
      onEscalate: options.onEscalate,
    });
  }

  /** @internal The engine, for `MonolithBus`. */
  get _core(): BusCore {
    return this.#core;
  }

  /** Whether messages round-trip through the codec. */
  get faithful(): boolean {
    return this.#core.faithful;
  }

  /** Aborts when shutdown begins. */
  get signal(): AbortSignal {
    return this.#core.signal;
  }

  /**
   * Starts an actor under `name`. Its `start` hook runs first; messages
   * queue meanwhile. With a factory, a restart builds a fresh instance.
   *
   * @throws {BusError} `BUS_DUPLICATE_NAME`, `BUS_INVALID_OPTION`, `BUS_CLOSED`.
   */
  spawn(name: string, actor: ActorSource, options: SpawnOptions = {}): ActorRef {
    const cell = this.#core.spawn(
      name,
      actor,
      {
        mailbox: options.mailbox,
        supervision: options.supervision,
        timing: options.timing,
        views: options.views,
      },
      options.subscribe,
    );
    return new LocalActorRef(cell, this.#core);
  }

  /** The running local actor named `name`, if any. */
  ref(name: string): ActorRef | undefined {
    const cell = this.#core.cells.get(name);
    return cell === undefined ? undefined : new LocalActorRef(cell, this.#core);
  }

  /**
   * Sends to the actor named `to`, local or behind a link.
   *
   * @throws {BusError} `BUS_NO_ROUTE`, `BUS_NO_HANDLER`, `BUS_CLOSED`,
   *   `BUS_NOT_SERIALIZABLE` (faithful); {@linkcode MailboxFullError}.
   */
  send<F extends Fields>(
    to: string,
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void> {
    this.#core.assertOpen();
    return this.#core.sendWith(to, type, message, undefined);
  }

  /**
   * Publishes to every subscriber of `type` or of its topic, local and
   * remote. Every destination is tried; the first error is thrown after.
   */
  publish<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void> {
    this.#core.assertOpen();
    return this.#core.publishExcept(type, message, undefined, true);
  }

  /**
   * Sends a request and resolves with the reply (see `Context.request`).
   *
   * @throws {RequestTimeoutError} when no reply came within `timeoutMs`.
   */
  request<Q extends Fields, R extends Fields>(
    to: string,
    type: MessageType<Q>,
    message: Readonly<Infer<NoInfer<Q>>>,
    options: RequestOptions<R>,
  ): Promise<Readonly<Infer<R>>> {
    if (!this.#core.open) {
      return Promise.reject(new BusError("BUS_CLOSED", "the bus is shutting down or closed"));
    }
    return this.#core.request(to, type, message, options) as Promise<
      Readonly<Infer<R>>
    >;
  }

  /**
   * Resolves once no actor has anything queued, running or pending (e.g. to
   * wait for a batch of messages to be handled).
   */
  async idle(options: { signal?: AbortSignal } = {}): Promise<void> {
    const ok = await this.#core.idle(undefined, options.signal);
    if (!ok) {
      throw new BusError("BUS_ABORTED", "waiting for the bus to be idle was aborted", {
        cause: options.signal?.reason,
      });
    }
  }

  /** The counters of every local actor, in spawn order. */
  actorStats(): ActorStats[] {
    return [...this.#core.cells.values()].map((cell) => cell.stats());
  }

  /** Bus-wide counters. */
  stats(): BusStats {
    return {
      actors: this.#core.cells.size,
      pendingRequests: this.#core.pendingRequests,
      unrouted: this.#core.unrouted,
    };
  }

  // ---- links ----------------------------------------------------------------

  /**
   * Routes to a remote process: its actors become reachable by name and its
   * subscriptions receive published messages. Attaching the same peer again
   * replaces its routes.
   */
  attach(peer: RemotePeer, routes: PeerRoutes): void {
    this.#core.attach(peer, routes);
  }

  /**
   * Removes a peer's routes (its link closed for good). Requests still
   * awaiting a reply through it fail with `BUS_NO_ROUTE`. To replace a
   * peer's routes, `attach` it again instead.
   */
  detach(peer: RemotePeer): void {
    this.#core.detach(peer);
  }

  /**
   * Every message type some local actor handles: what a link's handshake
   * compares fingerprints of, and registers for decoding.
   */
  handledTypes(): MessageType[] {
    return this.#core.handledTypes();
  }

  /** What this process hosts, to announce to peers. */
  hostedRoutes(): PeerRoutes {
    return this.#core.hostedRoutes();
  }

  /** Calls `listener` whenever local actors or peers change; returns the unsubscribe function. */
  onRoutesChange(listener: () => void): () => void {
    return this.#core.onRoutesChange(listener);
  }

  /**
   * A link hands in a point-to-point message from `peer` for local actor
   * `to` (a request when `requestId` > 0: the reply goes back through
   * `peer.reply`). Returns a promise when the mailbox is full (stop reading
   * until it resolves). `message` may be a zero-copy `MessageView`
   * of `type`: the actor gets a plain copy unless it asked for views.
   *
   * @throws {BusError} `BUS_NO_ROUTE`, `BUS_NO_HANDLER` (a request's peer is
   *   told too); {@linkcode MailboxFullError}.
   */
  deliver(
    peer: RemotePeer,
    to: string,
    type: MessageType,
    message: AnyMessage,
    requestId: number,
  ): void | Promise<void> {
    return this.#core.deliver(peer, to, type, message, requestId);
  }

  /**
   * A link hands in a published message: delivered to local subscribers
   * only. A `MessageView` is copied once into a plain message for
   * the subscribers that did not ask for views.
   */
  deliverPublished(type: MessageType, message: AnyMessage): void | Promise<void> {
    return this.#core.deliverPublished(type, message);
  }

  /**
   * A link hands in the reply to a request this bus sent (a view is copied
   * into a plain message); false if no longer pending.
   */
  deliverReply(requestId: number, type: MessageType, message: AnyMessage): boolean {
    return this.#core.complete(requestId, type, message);
  }

  /** A link hands in the failure of a request this bus sent; false if no longer pending. */
  deliverFailure(requestId: number, code: string, message: string): boolean {
    return this.#core.deliverFailure(requestId, code, message);
  }

  // ---- shutdown ---------------------------------------------------------------

  /**
   * Graceful shutdown: refuse new outside calls, abort `signal`, let
   * mailboxes drain up to the deadline (then run the
   * {@linkcode beforeStop} hooks, and drain again), stop every actor (stop hooks run;
   * anything still queued is discarded and counted), reject pending requests.
   * Idempotent: later calls return the same promise.
   */
  close(options: CloseOptions = {}): Promise<ShutdownReport> {
    return this.#core.close(options.deadlineMs ?? 5_000);
  }

  /**
   * Runs `hook` during {@linkcode close}, once the mailboxes have drained and
   * before the actors stop, with the ms left of the deadline: until it
   * settles (or the deadline passes) the actors keep running and the bus
   * keeps taking deliveries, from links too. Not run when the mailboxes did
   * not drain in time. A hook that resolves `false`, rejects or is still
   * running at the deadline makes the close report `drained: false`. A
   * `BusNode` uses it to keep the bus open until its linked processes have
   * finished sending to it. Returns the function that removes the hook.
   */
  beforeStop(hook: (timeoutMs: number) => Promise<boolean | void>): () => void {
    return this.#core.beforeStop(hook);
  }

  /** `close()` with the default deadline. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
