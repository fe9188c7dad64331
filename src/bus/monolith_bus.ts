/**
 * The MonolithBus: routing fixed in code. Each route maps a message type to
 * an ordered list of actors; `emitter(type)` returns a function generated for
 * that route that calls each sync handler directly, in order, with no queue.
 *
 * @module
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";
import type { Actor, Handler, HandlerResult } from "../actor/actor.ts";
import type { Context, RequestOptions } from "../actor/context.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import type { ActorFailure, SupervisionPolicy } from "../actor/supervision.ts";
import type { BusCore } from "./_core.ts";
import {
  type Cell,
  type Envelope,
  type HandleFn,
  handlerFailedError,
  noReplyError,
  replyTo,
} from "./_cell.ts";
import { BusError } from "./bus_error.ts";
import { type ActorRef, MessageBus, type SpawnOptions } from "./message_bus.ts";
import type { AnyMessage } from "./remote_peer.ts";
import type { DeliveryTiming } from "../metrics/delivery_timing.ts";

/**
 * `A` if actor `A` has a handler for message fields `F`, else an error type
 * whose name shows up in the compiler's message.
 */
export type HandlesType<A, F extends Fields> = A extends
  { readonly handlers: ReadonlyArray<infer H> }
  ? ([Handler<F>] extends [H] ? A : { "actor has no handler for this message type": F })
  : never;

/** Checks every actor of a route's list against the routed message type. */
export type RouteTargets<S, F extends Fields> = { readonly [K in keyof S]: HandlesType<S[K], F> };

/** Options of {@linkcode MonolithBus}. */
export interface MonolithBusOptions {
  /**
   * The actors, by name (`{ strategy, risk }` names them after the
   * variables). More can be added with `add`.
   */
  actors?: Readonly<Record<string, Actor>>;
  /**
   * A MessageBus to share the process with (hybrid mode): async handlers run
   * on it, sends and publishes the routes do not cover go to it, and its
   * messages of routed types reach the routes. Default: a private bus.
   */
  bus?: MessageBus;
  /** Where failures are logged when the bus is private. Default: nowhere. */
  logger?: Logger;
  /** Called with every failure when the bus is private. Default: none. */
  onFailure?: (failure: ActorFailure) => void;
  /**
   * Run sync members' `start` hooks once this settles instead of during
   * `start()` (the runtime opens it when every actor is reachable). Until a
   * member's hook is done, messages for it wait in its mailbox. Default: run
   * them in `start()`.
   */
  startAfter?: Promise<void>;
}

/** Options of {@linkcode MonolithBus.add}. */
export interface MonolithActorOptions {
  /** Spawn options used when the actor is an async route target (it runs on the bus). */
  spawn?: SpawnOptions;
  /**
   * For a sync member: timing of its proxy's mailbox, through which what
   * comes from the bus reaches it (other processes, and whatever finds it
   * busy). Default: untimed. Direct calls are never timed.
   */
  proxyTiming?: DeliveryTiming;
}

/** An emitter: calls a route's sync handlers now; returns a promise only if an async target's `wait` mailbox is full. */
export type Emitter<F extends Fields> = (message: Readonly<Infer<F>>) => void | Promise<void>;

/**
 * Supervision of the bus-side proxies: a failure passing
 * through them (a sync member throwing for a bus sender, a full async
 * mailbox) is reported, and they keep running, like sync members do.
 */
const KEEP_RUNNING: SupervisionPolicy = Object.freeze({
  strategy: "restart",
  maxRestarts: Number.MAX_SAFE_INTEGER,
  backoffMs: 0,
  maxBackoffMs: 0,
});

/** Flags of a route's state word. */
const FORWARD = 1;
const CLOSED = 2;

interface Member {
  readonly name: string;
  readonly actor: Actor;
  readonly options: MonolithActorOptions;
  readonly handlers: Map<MessageType, HandleFn>;
  mode: "sync" | "async" | undefined;
  ctx: MonolithContext | undefined;
  ref: ActorRef | undefined;
  /** Its cell on the bus (its proxy, or itself when async), once started. */
  cell: Cell | undefined;
  /** The routes it is a sync target of. */
  readonly routes: Route[];
  /**
   * The async handler (or deferred start hook) it is running, if any: it stays
   * busy until this settles, and its proxy handles nothing before.
   */
  pending: Promise<void> | undefined;
  /** Direct calls made off the fast path, direct calls failed, busy flag (see {@linkcode BUSY}). */
  readonly counts: Float64Array;
}

/**
 * Whether one of a member's handlers is running now: through its proxy or a
 * direct call (its busy flag), or in a route's fast path up the stack.
 */
function running(m: Member): boolean {
  if (m.counts[BUSY] !== 0) return true;
  for (const r of m.routes) if (r.depth[1] === r.id) return true;
  return false;
}

/** Index of a member's busy flag in its counts: 1 while its proxy or a direct call runs one of its handlers. */
const BUSY = 2;

interface Route {
  readonly type: MessageType;
  readonly sync: readonly Member[];
  readonly async: readonly Member[];
  /** FORWARD | CLOSED bits, read by the generated emitter. */
  readonly state: Int32Array;
  emit: ((m: AnyMessage) => void | Promise<void>) | undefined;
  /** The emitter without the flag check: serves the targets only. */
  deliver: ((m: AnyMessage) => void | Promise<void>) | undefined;
  /** The targets' cells on the bus, once started. */
  readonly cells: Set<Cell>;
  /** Emits that called every sync target directly (the fast path). */
  readonly calls: Float64Array;
  /** Its number (from 1): the monolith's depth[1] holds it while its fast path runs. */
  readonly id: number;
  /** The monolith's nesting word: [route whose fast path runs, or 0; direct calls off it]. */
  readonly depth: Int32Array;
}

/**
 * A request from the bus answered by a direct call into a sync member: what
 * its context's `reply` goes to while the handler runs.
 */
class DirectRequest {
  readonly #name: string;
  readonly #core: BusCore;
  readonly #meta: Envelope;

  constructor(name: string, core: BusCore, meta: Envelope) {
    this.#name = name;
    this.#core = core;
    this.#meta = meta;
  }

  reply(type: MessageType, message: AnyMessage): void {
    replyTo(this.#core, this.#name, this.#meta, type, message);
  }

  /**
   * The handler is done (`failed`: it threw or rejected): an unanswered
   * request fails, as its mailbox would fail it.
   */
  finish(type: MessageType, failed: boolean, error: unknown): void {
    if (this.#meta.answered) return;
    this.#meta.answered = true;
    this.#core.failRequest(
      this.#meta,
      failed ? handlerFailedError(this.#name, type, error) : noReplyError(this.#name, type),
    );
  }
}

class MonolithContext implements Context {
  readonly name: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /**
   * Where `reply` goes while a request is handled: the bus context of its
   * proxy, or the request itself when the bus called the member directly.
   */
  via: Pick<Context, "reply"> | undefined = undefined;
  readonly #mono: MonolithBus;
  readonly #core: BusCore;

  constructor(name: string, mono: MonolithBus, core: BusCore, logger: Logger) {
    this.name = name;
    this.log = logger.child(name);
    this.signal = core.signal;
    this.#mono = mono;
    this.#core = core;
  }

  send<F extends Fields>(
    to: string,
    type: MessageType<F>,
    message: Readonly<Infer<F>>,
  ): void | Promise<void> {
    return this.#mono._sendFrom(to, type, message);
  }

  publish<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<F>>,
  ): void | Promise<void> {
    return this.#mono._publishFrom(type, message);
  }

  request<Q extends Fields, R extends Fields>(
    to: string,
    type: MessageType<Q>,
    message: Readonly<Infer<Q>>,
    options: RequestOptions<R>,
  ): Promise<Readonly<Infer<R>>> {
    return this.#core.request(to, type, message, options) as Promise<
      Readonly<Infer<R>>
    >;
  }

  reply<F extends Fields>(type: MessageType<F>, message: Readonly<Infer<F>>): void {
    if (this.via === undefined) {
      throw new BusError(
        "BUS_NOT_A_REQUEST",
        `actor '${this.name}' replied ${type.name} but is not handling a request`,
        { actor: this.name, messageType: type.name },
      );
    }
    this.via.reply(type, message);
  }
}

/**
 * Routing declared in code, compiled to direct calls.
 *
 * - `route(type, sync, async?)` lists, in order, the actors whose handler for
 *   `type` runs on every emit. Each actor must handle `type`: the type checker
 *   rejects one that does not (keep the actor's `handlers` un-annotated so
 *   its element types are known).
 * - Sync handlers run inside `emit`, by reference, one after the other; a
 *   throwing one is reported (actor, message type, error; action `resume`)
 *   and the others still run. A sync handler returning a promise has its
 *   rejection reported too.
 * - Async handlers (actors listed as async targets) run on the bus through
 *   their mailbox, so they never block the hot path; their failures follow
 *   their supervision policy.
 * - An actor is either sync or async in every route it appears in.
 * - Sync members are also reachable from the bus by name (through a proxy
 *   actor with a mailbox), so other processes can send to and request from
 *   them, and messages of routed types published on the bus reach them. A
 *   send or request by name (from a bus actor, an outside caller or another
 *   process) that finds the member quiet is a direct call too: a request's
 *   handler runs before `request` returns, and the request is answered, or
 *   failed (`BUS_NO_REPLY`, `BUS_HANDLER_FAILED`), as its mailbox would,
 *   without waiting for a turn of the bus. Until a handler called directly
 *   settles, its actor is not idle for `bus.idle()` and shutdown (so
 *   `close()` on a shared bus that is still open waits for it, as it waits
 *   for handlers running through mailboxes). A failure in a direct call is
 *   reported with action `resume`: supervision policies apply to
 *   deliveries through the mailbox.
 * - Order per receiver holds: a sync target is called directly only when
 *   nothing is queued in its mailbox and none of its handlers is running;
 *   otherwise the message joins its mailbox. A handler is never re-entered.
 * - When a routed type has subscribers beyond the route's targets (other
 *   actors, other processes), emitting also publishes it to them.
 *
 * There is no faithful mode here (nothing is copied, by design): run the
 * same actors on a `MessageBus({ faithful: true })` in tests to check they
 * would survive a split deployment.
 *
 * Each route's emitter is generated with `new Function` as straight-line
 * code with the handlers bound as constants of its closure, so every call
 * site stays monomorphic, as hand-written calls would be.
 *
 * @example
 * ```ts
 * import { MonolithBus } from "./monolith_bus.ts";
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
 * const strategy = new Counter();
 * const metrics = new Counter();
 * await using mono = new MonolithBus({ actors: { strategy, metrics } });
 * mono.route(V2Swap, [strategy, metrics]);
 * await mono.start();
 * const emitSwap = mono.emitter(V2Swap);
 * emitSwap({
 *   poolAddress: new Uint8Array(20), token0: new Uint8Array(20), token1: new Uint8Array(20),
 *   amountIn: new Uint8Array(32), amountOut: new Uint8Array(32), timestampNs: 1n,
 * });
 * if (strategy.swaps !== 1 || metrics.swaps !== 1) throw new Error("unreachable");
 * ```
 */
export class MonolithBus implements AsyncDisposable {
  readonly #bus: MessageBus;
  readonly #ownsBus: boolean;
  readonly #core: BusCore;
  readonly #logger: Logger;
  readonly #members = new Map<Actor, Member>();
  readonly #byName = new Map<string, Member>();
  readonly #routes = new Map<MessageType, Route>();
  readonly #startAfter: Promise<void> | undefined;
  readonly #unhook: (() => void)[] = [];
  /**
   * [0]: what keeps the fast path off: messages queued for sync members
   * (their proxy cells count them in, their handlers count them out),
   * members busy with a handler or a pending one, direct calls running.
   * [1]: the route whose fast path runs, or 0.
   */
  readonly #depth = new Int32Array(2);
  #started: Promise<void> | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;
  #unlisten: (() => void) | undefined = undefined;

  /** Creates a monolith bus; add actors and routes, then `start()`. */
  constructor(options: MonolithBusOptions = {}) {
    this.#ownsBus = options.bus === undefined;
    this.#bus = options.bus ??
      new MessageBus({
        logger: options.logger ?? NULL_LOGGER,
        ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
      });
    this.#core = this.#bus._core;
    this.#logger = this.#core.logger;
    this.#startAfter = options.startAfter;
    for (const [name, actor] of Object.entries(options.actors ?? {})) this.add(name, actor);
  }

  /** The MessageBus this monolith shares the process with. */
  get bus(): MessageBus {
    return this.#bus;
  }

  /**
   * Adds an actor under `name`.
   *
   * @throws {BusError} `BUS_DUPLICATE_NAME`; `BUS_INVALID_OPTION` after start.
   */
  add(name: string, actor: Actor, options: MonolithActorOptions = {}): this {
    this.#assertBuilding();
    if (typeof name !== "string" || name.length === 0) {
      throw new BusError("BUS_INVALID_OPTION", "an actor's name must be a non-empty string");
    }
    if (this.#byName.has(name) || this.#members.has(actor)) {
      throw new BusError("BUS_DUPLICATE_NAME", `actor '${name}' was already added`, {
        actor: name,
      });
    }
    const handlers = new Map<MessageType, HandleFn>();
    for (const h of actor.handlers) handlers.set(h.type, h.handle);
    const member: Member = {
      name,
      actor,
      options,
      handlers,
      mode: undefined,
      ctx: undefined,
      ref: undefined,
      cell: undefined,
      routes: [],
      pending: undefined,
      counts: new Float64Array(3),
    };
    this.#members.set(actor, member);
    this.#byName.set(name, member);
    return this;
  }

  /**
   * Declares the route of `type`: `sync` actors' handlers run in order inside
   * every emit; `async` actors get the message through their mailbox on the
   * bus. One route per type.
   *
   * @throws {BusError} `BUS_INVALID_OPTION` for an unknown actor, a second
   *   route of one type, an actor both sync and async, or after start;
   *   `BUS_NO_HANDLER` for an actor without a handler (when types were bypassed).
   */
  route<F extends Fields, const S extends readonly Actor[], const A extends readonly Actor[] = []>(
    type: MessageType<F>,
    sync: S & RouteTargets<S, F>,
    async?: A & RouteTargets<A, F>,
  ): this {
    this.#assertBuilding();
    if (this.#routes.has(type)) {
      throw new BusError("BUS_INVALID_OPTION", `${type.name} is already routed`, {
        messageType: type.name,
      });
    }
    const pick = (actors: readonly Actor[], mode: "sync" | "async"): Member[] =>
      actors.map((actor) => {
        const m = this.#members.get(actor);
        if (m === undefined) {
          throw new BusError(
            "BUS_INVALID_OPTION",
            `route ${type.name}: an actor was not added to the monolith (add it by name first)`,
            { messageType: type.name },
          );
        }
        if (!m.handlers.has(type)) {
          throw new BusError(
            "BUS_NO_HANDLER",
            `actor '${m.name}' has no handler for ${type.name}`,
            {
              actor: m.name,
              messageType: type.name,
            },
          );
        }
        if (m.mode !== undefined && m.mode !== mode) {
          throw new BusError(
            "BUS_INVALID_OPTION",
            `actor '${m.name}' cannot be both a sync and an async route target`,
            { actor: m.name, messageType: type.name },
          );
        }
        m.mode = mode;
        return m;
      });
    const syncMembers = pick(sync, "sync");
    this.#routes.set(type, {
      type,
      sync: syncMembers,
      async: pick(async ?? [], "async"),
      state: new Int32Array(1),
      emit: undefined,
      deliver: undefined,
      cells: new Set(),
      calls: new Float64Array(1),
      id: this.#routes.size + 1,
      depth: this.#depth,
    });
    for (const m of syncMembers) m.routes.push(this.#routes.get(type)!);
    return this;
  }

  /**
   * Runs the sync members' `start` hooks, spawns the async members and the
   * sync members' proxies on the bus, and compiles the emitters. Idempotent.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    for (const m of this.#members.values()) {
      if (m.mode === "async") {
        m.ref = this.#bus.spawn(m.name, m.actor, { ...m.options.spawn, ...this.#subscriptions(m) });
        m.cell = this.#core.cells.get(m.name);
        continue;
      }
      m.mode = "sync";
      m.ctx = new MonolithContext(m.name, this, this.#core, this.#logger);
      const start = m.actor.start;
      if (start !== undefined && this.#startAfter === undefined) await start.call(m.actor, m.ctx);
      else if (start !== undefined) {
        const ctx = m.ctx;
        this.#hold(
          m,
          this.#startAfter!.then(() => start.call(m.actor, ctx)),
          (error) =>
            this.#core.report({
              actor: m.name,
              phase: "start",
              messageType: undefined,
              error,
              action: "resume",
              restarts: 0,
            }),
        );
      }
      m.ref = this.#bus.spawn(m.name, { handlers: this.#proxyHandlers(m) }, {
        ...this.#subscriptions(m),
        supervision: KEEP_RUNNING,
        ...(m.options.spawn?.mailbox === undefined ? {} : { mailbox: m.options.spawn.mailbox }),
        ...(m.options.proxyTiming === undefined ? {} : { timing: m.options.proxyTiming }),
      });
      m.cell = this.#core.cells.get(m.name);
      m.cell!.counter = this.#depth;
      // Sends and requests from the bus (async actors, other processes) call it directly too.
      m.cell!.direct = (type, message, meta) => {
        const fn = m.handlers.get(type);
        return fn !== undefined && this.#callFromBus(m, fn, type, message, meta);
      };
    }
    for (const route of this.#routes.values()) {
      this.#compile(route);
      // A bus actor's publish of a routed type runs the route too (direct calls into quiet
      // targets), not only a member's.
      this.#unhook.push(this.#core.setPublishHook(route.type, route.emit!));
    }
    this.#unlisten = this.#core.onRoutesChange(() => this.#updateForwarding());
    this.#updateForwarding();
  }

  /**
   * What a member's bus cell subscribes to: its spawn options' list (default:
   * the types it handles that no route covers) plus the routed types it is a
   * target of, so a
   * message of a routed type published by a bus actor or a peer reaches it
   * through its mailbox, in order with everything else sent to it.
   */
  #subscriptions(m: Member): { subscribe: (MessageType | string)[] } {
    const routed = [...this.#routes.values()]
      .filter((r) => r.sync.includes(m) || r.async.includes(m))
      .map((r) => r.type);
    // By default a member gets its handled types, except routed types whose route leaves it out.
    const own = m.options.spawn?.subscribe ??
      [...m.handlers.keys()].filter((type) => !this.#routes.has(type));
    return { subscribe: [...new Set([...own, ...routed])] };
  }

  /**
   * Handlers of the bus proxy of a sync member: calls with its context, one
   * at a time, after whatever async handler a direct call left running.
   */
  #proxyHandlers(m: Member): Handler[] {
    const ctx = m.ctx!;
    const depth = this.#depth;
    const handlers: Handler[] = [];
    for (const [type, fn] of m.handlers) {
      const call = (message: AnyMessage, busCtx: Context): HandlerResult => {
        ctx.via = busCtx;
        m.counts[BUSY] = 1;
        depth[0]!++;
        let r: HandlerResult;
        try {
          r = fn(message, ctx);
        } catch (e) {
          m.counts[BUSY] = 0;
          depth[0]!--;
          ctx.via = undefined;
          throw e;
        }
        if (!(r instanceof Promise)) {
          m.counts[BUSY] = 0;
          depth[0]!--;
          ctx.via = undefined;
          return r;
        }
        // An async handler keeps its actor busy (and may still reply) until it settles.
        const done = () => {
          m.counts[BUSY] = 0;
          depth[0]!--;
          ctx.via = undefined;
        };
        return r.then(done, (e) => {
          done();
          throw e;
        });
      };
      handlers.push({
        type,
        handle: (message, busCtx) => {
          // It left the mailbox (the cell counted it in).
          depth[0]!--;
          if (m.pending === undefined) return call(message, busCtx);
          // Behind what a direct call left running; busy until this one is done too. Its
          // failure is the proxy cell's to report (the promise is returned to it).
          const chained = m.pending.then(() => call(message, busCtx));
          this.#hold(m, chained, () => {});
          return chained;
        },
      });
    }
    return handlers;
  }

  #updateForwarding(): void {
    for (const route of this.#routes.values()) {
      for (const m of [...route.sync, ...route.async]) {
        if (m.cell !== undefined) route.cells.add(m.cell);
      }
      const forward = this.#core.hasSubscribersBeyond(route.type, route.cells);
      route.state[0] = (route.state[0]! & ~FORWARD) | (forward ? FORWARD : 0);
    }
  }

  #assertBuilding(): void {
    if (this.#started !== undefined) {
      throw new BusError("BUS_INVALID_OPTION", "routes and actors are fixed once started");
    }
  }

  /**
   * Generates the route's emitter. A sync target is called directly when its
   * mailbox is quiet (nothing queued, nothing running); otherwise the message
   * joins its mailbox behind what came first, so every receiver still handles
   * what each sender sent in order. Async targets get it in their mailbox.
   */
  #compile(route: Route): void {
    const names: string[] = [];
    const values: unknown[] = [];
    const n = route.sync.length;
    route.sync.forEach((m, i) => {
      names.push(`f${i}`, `c${i}`, `n${i}`, `b${i}`, `q${i}`);
      values.push(m.handlers.get(route.type), m.ctx, m.counts, m.cell!.mailbox, m.cell);
    });
    // Fast path: no direct call up the stack and every sync target quiet (not running a
    // handler, nothing queued): straight-line calls in one try region, as hand-written
    // calls would be.
    // Else, when no route's fast path runs up the stack (an actor busy elsewhere, say the
    // sender's own caller), the same calls if each target is quiet on its own.
    const alone = route.sync.map((_, i) =>
      `n${i}[${BUSY}] === 0 && b${i}.size === 0 && q${i}.waiting === 0`
    );
    const quiet = [`d[0] === 0 || (d[1] === 0 && ${alone.join(" && ")})`];
    const calls: string[] = [];
    route.sync.forEach((_, i) => {
      calls.push(
        `    ${i === 0 ? "let " : ""}r = f${i}(m, c${i}); if (r !== undefined) watch(${i}, r);`,
      );
      if (i + 1 < n) calls.push(`    i = ${i + 1};`);
    });
    const sync = n === 0 ? [] : [
      `  if (${quiet.join(" && ")}) {`,
      `    rc[0]++; d[0]++; d[1] = ${route.id};`,
      `    let i = 0;`,
      `    try {`,
      ...calls,
      `    } catch (e) { resume(i, m, e); }`,
      `    finally { d[0]--; d[1] = 0; }`,
      `  } else w = mixed(m);`,
    ];
    const pushes: string[] = [];
    route.async.forEach((m, i) => {
      const cell = this.#core.cells.get(m.name)!;
      names.push(`s${i}`);
      values.push(cell.subs.get(route.type));
      pushes.push(
        `  if (!s${i}.cell.stopped) {`,
        `    try { const x = s${i}.cell.push(s${i}, m, undefined); if (x !== undefined) w = w === undefined ? x : join(w, x); }`,
        `    catch (e) { w = reject(w, e); }`,
        `  }`,
      );
    });
    const body = [`  let w = undefined;`, ...sync, ...pushes, `  return w;`];
    const fns = route.sync.map((m) => m.handlers.get(route.type)!);
    const ctxs = route.sync.map((m) => m.ctx!);
    const watch = (i: number, r: HandlerResult) => {
      if (r instanceof Promise) {
        this.#hold(route.sync[i]!, r, (error) => this.#failed(route, i, error));
      }
    };
    // A throwing target is reported; the ones after it still run.
    const resume = (failed: number, m: AnyMessage, error: unknown) => {
      this.#failed(route, failed, error);
      for (let j = failed + 1; j < fns.length; j++) {
        try {
          const r = fns[j]!(m, ctxs[j]!);
          if (r !== undefined) watch(j, r);
        } catch (e) {
          this.#failed(route, j, e);
        }
      }
    };
    // Some target busy or with a backlog: each target on its own, directly when quiet,
    // else through its mailbox behind what came first.
    // Each target on its own: directly when it is quiet and not running up the stack (a
    // handler called directly that emits again), else through its mailbox.
    const depth = this.#depth;
    const mixed = (m: AnyMessage): void | Promise<void> => {
      let w: Promise<void> | undefined;
      route.sync.forEach((member, i) => {
        const cell = member.cell!;
        if (!running(member) && cell.mailbox.size === 0 && cell.waiting === 0) {
          member.counts[0]!++;
          member.counts[BUSY] = 1;
          depth[0]!++;
          try {
            const r = fns[i]!(m, ctxs[i]!);
            if (r !== undefined) watch(i, r);
          } catch (e) {
            this.#failed(route, i, e);
          } finally {
            // An async handler it left pending keeps it busy (#hold) until it settles.
            member.counts[BUSY] = member.pending === undefined ? 0 : 1;
            depth[0]!--;
          }
          return;
        }
        try {
          const x = cell.push(cell.subs.get(route.type)!, m, undefined);
          if (x !== undefined) w = w === undefined ? x : join(w, x);
        } catch (e) {
          w = reject(w, e);
        }
      });
      return w;
    };
    const join = (a: Promise<void>, b: Promise<void>) => Promise.all([a, b]).then(() => {});
    const reject = (w: Promise<void> | undefined, error: unknown) => {
      if (w !== undefined) w.catch(() => {});
      return Promise.reject(error);
    };
    const slow = (m: AnyMessage) => this.#slowPath(route, m);
    const id = route.type.name.replace(/[^A-Za-z0-9_$]/g, "_");
    const source = [
      `"use strict";`,
      `function deliver_${id}(m) {`,
      ...body,
      `}`,
      `function emit_${id}(m) {`,
      `  if (st[0] !== 0) return slow(m);`,
      ...body,
      `}`,
      `return [emit_${id}, deliver_${id}];`,
    ].join("\n");
    const make = new Function(
      ...names,
      "st",
      "rc",
      "d",
      "watch",
      "resume",
      "mixed",
      "join",
      "reject",
      "slow",
      source,
    ) as (...args: unknown[]) => [Route["emit"], Route["deliver"]];
    [route.emit, route.deliver] = make(
      ...values,
      route.state,
      route.calls,
      this.#depth,
      watch,
      resume,
      mixed,
      join,
      reject,
      slow,
    );
  }

  /**
   * Emit when a flag is set: refuse after close; with subscribers beyond the
   * route's targets (other actors, peers), serve the targets, then publish
   * to the others.
   */
  #slowPath(route: Route, m: AnyMessage): void | Promise<void> {
    if ((route.state[0]! & CLOSED) !== 0) {
      throw new BusError("BUS_CLOSED", `the monolith is closed; ${route.type.name} not emitted`, {
        messageType: route.type.name,
      });
    }
    const w = route.deliver!(m);
    const x = this.#core.publishExcept(route.type, m, route.cells, true);
    if (x === undefined) return w;
    return w === undefined ? x : Promise.all([w, x]).then(() => {});
  }

  /**
   * A member called directly returned a promise: it is busy until that
   * settles (later messages queue in its mailbox, behind it), and a
   * rejection is reported.
   */
  #hold(m: Member, r: Promise<void>, report: (error: unknown) => void): void {
    m.counts[BUSY] = 1;
    this.#depth[0]!++;
    // Its cell is not quiet meanwhile: the bus's idle() and drain wait for the handler too.
    const cell = m.cell;
    if (cell !== undefined) cell.held++;
    const pending: Promise<void> = r.then(
      () => {
        this.#release(m, pending);
        this.#unhold(cell);
      },
      (error) => {
        this.#release(m, pending);
        try {
          report(error);
        } finally {
          this.#unhold(cell);
        }
      },
    );
    m.pending = pending;
  }

  #release(m: Member, pending: Promise<void>): void {
    this.#depth[0]!--;
    if (m.pending !== pending) return;
    m.pending = undefined;
    m.counts[BUSY] = 0;
  }

  #unhold(cell: Cell | undefined): void {
    if (cell !== undefined && --cell.held === 0) this.#core.checkIdle();
  }

  #failed(route: Route, i: number, error: unknown): void {
    const m = route.sync[i]!;
    m.counts[1]!++;
    this.#core.report({
      actor: m.name,
      phase: "handle",
      messageType: route.type.name,
      error,
      action: "resume",
      restarts: 0,
    });
  }

  /**
   * The generated emit function of `type`'s route: call it on the hot path.
   *
   * @throws {BusError} `BUS_INVALID_OPTION` before `start()` resolved;
   *   `BUS_NO_ROUTE` when `type` is not routed.
   */
  emitter<F extends Fields>(type: MessageType<F>): Emitter<F> {
    const route = this.#routes.get(type);
    if (route === undefined) {
      throw new BusError("BUS_NO_ROUTE", `${type.name} has no route in this monolith`, {
        messageType: type.name,
      });
    }
    if (route.emit === undefined) {
      throw new BusError("BUS_INVALID_OPTION", "emitters exist once start() has resolved");
    }
    return route.emit;
  }

  /**
   * Calls of a sync member's handlers made directly (by a route, a sync
   * member's `send`, or a send or request from the bus that found it idle),
   * not through its mailbox: `calls`, and of those, `failed` (threw or
   * rejected). `undefined` for an unknown name.
   */
  directStats(name: string): { readonly calls: number; readonly failed: number } | undefined {
    const m = this.#byName.get(name);
    if (m === undefined) return undefined;
    let calls = m.counts[0]!;
    for (const r of this.#routes.values()) if (r.sync.includes(m)) calls += r.calls[0]!;
    return { calls, failed: m.counts[1]! };
  }

  /** Runs `type`'s route (a map lookup, then the emitter): for code off the hot path. */
  emit<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void> {
    return this.emitter(type)(message);
  }

  /** @internal `ctx.send` of a sync member. */
  _sendFrom(to: string, type: MessageType, message: AnyMessage): void | Promise<void> {
    const m = this.#byName.get(to);
    if (m !== undefined && m.mode === "sync") {
      const fn = m.handlers.get(type);
      if (fn === undefined) {
        throw new BusError("BUS_NO_HANDLER", `actor '${to}' has no handler for ${type.name}`, {
          actor: to,
          messageType: type.name,
        });
      }
      // Directly only when nothing is queued for it or running in it: order per receiver holds.
      if (!running(m) && m.cell !== undefined && m.cell.quiet) {
        m.counts[0]!++;
        m.counts[BUSY] = 1;
        this.#depth[0]!++;
        try {
          const r = fn(message, m.ctx!);
          if (r instanceof Promise) this.#hold(m, r, (error) => this.#reportDirect(m, type, error));
        } catch (error) {
          this.#reportDirect(m, type, error);
        } finally {
          // An async handler it left pending keeps it busy (#hold) until it settles.
          m.counts[BUSY] = m.pending === undefined ? 0 : 1;
          this.#depth[0]!--;
        }
        return;
      }
    }
    return this.#core.send(to, type, message);
  }

  /**
   * A send or request from the bus (a bus actor, an outside caller, a peer)
   * to sync member `m`: calls its handler `fn` directly, as `_sendFrom`
   * does, if `m` is quiet (nothing queued for it, none of its handlers
   * running) and not stopped. `meta`, when set, is the request being
   * answered: a reply completes it, and a handler that finishes without
   * replying, or fails, fails it as its mailbox would (`BUS_NO_REPLY`,
   * `BUS_HANDLER_FAILED`). Failures are reported with action `resume`.
   * False when it cannot (the delivery then joins the mailbox).
   */
  #callFromBus(
    m: Member,
    fn: HandleFn,
    type: MessageType,
    message: AnyMessage,
    meta: Envelope | undefined,
  ): boolean {
    const cell = m.cell!;
    if (running(m) || cell.stopped || !cell.quiet) return false;
    const ctx = m.ctx!;
    const via = meta === undefined ? undefined : new DirectRequest(m.name, this.#core, meta);
    m.counts[0]!++;
    m.counts[BUSY] = 1;
    this.#depth[0]!++;
    ctx.via = via;
    try {
      const r = fn(message, ctx);
      if (r instanceof Promise) {
        // It stays busy (#hold) until the handler settles; a reply may come until then.
        this.#hold(m, r.then(() => this.#settled(m, via, type, false, undefined)), (error) => {
          this.#settled(m, via, type, true, error);
        });
      } else {
        this.#settled(m, via, type, false, undefined);
      }
    } catch (error) {
      this.#settled(m, via, type, true, error);
    } finally {
      m.counts[BUSY] = m.pending === undefined ? 0 : 1;
      this.#depth[0]!--;
    }
    return true;
  }

  /**
   * The end of a direct call: its request, if unanswered, fails; a failure
   * (`failed`, whatever `error` is, `undefined` included) is reported.
   */
  #settled(
    m: Member,
    via: DirectRequest | undefined,
    type: MessageType,
    failed: boolean,
    error: unknown,
  ): void {
    if (m.ctx!.via === via) m.ctx!.via = undefined;
    if (via !== undefined) via.finish(type, failed, error);
    if (failed) this.#reportDirect(m, type, error);
  }

  #reportDirect(m: Member, type: MessageType, error: unknown): void {
    m.counts[1]!++;
    this.#core.report({
      actor: m.name,
      phase: "handle",
      messageType: type.name,
      error,
      action: "resume",
      restarts: 0,
    });
  }

  /** @internal `ctx.publish` of a sync member. */
  _publishFrom(type: MessageType, message: AnyMessage): void | Promise<void> {
    const route = this.#routes.get(type);
    if (route !== undefined && route.emit !== undefined) return route.emit(message);
    return this.#core.publish(type, message);
  }

  /**
   * Shuts down: emitters stop forwarding, the bus closes if it is private
   * (async members drain), then sync members' `stop` hooks run. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#unlisten?.();
    for (const unhook of this.#unhook) unhook();
    if (this.#ownsBus) {
      await this.#bus.close();
    } else {
      // A bus already closed (the runtime closes it first) has stopped every cell.
      if (!this.#core.closed) await this.#bus.idle();
      for (const m of this.#members.values()) await m.ref?.stop();
    }
    for (const route of this.#routes.values()) route.state[0] = CLOSED;
    if (this.#started === undefined) return;
    for (const m of this.#members.values()) {
      if (m.mode !== "sync" || m.actor.stop === undefined || m.ctx === undefined) continue;
      try {
        await m.actor.stop(m.ctx);
      } catch (error) {
        this.#core.report({
          actor: m.name,
          phase: "stop",
          messageType: undefined,
          error,
          action: "stop",
          restarts: 0,
        });
      }
    }
  }

  /** `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
