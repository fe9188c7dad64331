/**
 * The runtime side of one actor: its mailbox, waiting senders, context,
 * drain loop and supervision. Owned by a `BusCore`.
 *
 * Decisions:
 * - Deliveries are `(Sub, message, Envelope | undefined)` triples in the
 *   mailbox; a `Sub` pairs the actor with its handler for one type, found once
 *   at publish time, so draining does no lookup.
 * - One message at a time: a handler returning a promise blocks the cell
 *   until it settles; the drain loop stops and resumes afterwards.
 * - Waiting senders (`wait` policy) queue behind the mailbox in order, and
 *   new messages go behind them while any wait: FIFO per sender holds.
 * - A failed message is not retried. Restart keeps the mailbox.
 *
 * @module
 * @internal
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";
import type { Actor, ActorSource, HandlerResult } from "../actor/actor.ts";
import type { Context, RequestOptions } from "../actor/context.ts";
import type { Logger } from "../logger.ts";
import {
  type ActorFailure,
  DEFAULT_SUPERVISION,
  type FailureAction,
  type SupervisionPolicy,
} from "../actor/supervision.ts";
import { BusError, MailboxFullError } from "./bus_error.ts";
import { FULL, Mailbox, type MailboxOptions, QUEUED } from "./mailbox.ts";
import type { AnyMessage, RemotePeer } from "./remote_peer.ts";
import type { DeliveryTiming } from "../metrics/delivery_timing.ts";

/** What the cell needs from its bus. */
export interface CellHost {
  readonly signal: AbortSignal;
  readonly logger: Logger;
  schedule(cell: Cell): void;
  checkIdle(): void;
  report(failure: ActorFailure): void;
  escalate(failure: ActorFailure): void;
  removeCell(cell: Cell): void;
  send(to: string, type: MessageType, message: AnyMessage): void | Promise<void>;
  publish(type: MessageType, message: AnyMessage): void | Promise<void>;
  request(
    to: string,
    type: MessageType,
    message: AnyMessage,
    options: RequestOptions,
  ): Promise<AnyMessage>;
  reply(envelope: Envelope, type: MessageType, message: AnyMessage): void;
  failRequest(envelope: Envelope, error: BusError): void;
}

/** A handler function as the cell calls it. */
export type HandleFn = (message: AnyMessage, ctx: Context) => HandlerResult;

/** One actor's handler for one type: the key of a delivery. */
export class Sub {
  readonly cell: Cell;
  readonly type: MessageType;
  fn: HandleFn;
  /** The actor takes zero-copy views of this type (`SpawnOptions.views`) instead of plain copies. */
  readonly views: boolean;
  constructor(cell: Cell, type: MessageType, fn: HandleFn, views: boolean) {
    this.cell = cell;
    this.type = type;
    this.fn = fn;
    this.views = views;
  }
}

/** Request metadata riding with a delivery. */
export class Envelope {
  readonly id: number;
  /** The link the request came through; `undefined` when local. */
  readonly peer: RemotePeer | undefined;
  answered = false;
  constructor(id: number, peer: RemotePeer | undefined) {
    this.id = id;
    this.peer = peer;
  }
}

interface Waiter {
  readonly sub: Sub;
  readonly message: unknown;
  readonly meta: Envelope | undefined;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

class CellContext implements Context {
  readonly name: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  current: Envelope | undefined = undefined;
  readonly #host: CellHost;

  constructor(name: string, host: CellHost) {
    this.name = name;
    this.log = host.logger.child(name);
    this.signal = host.signal;
    this.#host = host;
  }

  send<F extends Fields>(
    to: string,
    type: MessageType<F>,
    message: Readonly<Infer<F>>,
  ): void | Promise<void> {
    return this.#host.send(to, type, message);
  }

  publish<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<F>>,
  ): void | Promise<void> {
    return this.#host.publish(type, message);
  }

  request<Q extends Fields, R extends Fields>(
    to: string,
    type: MessageType<Q>,
    message: Readonly<Infer<Q>>,
    options: RequestOptions<R>,
  ): Promise<Readonly<Infer<R>>> {
    return this.#host.request(to, type, message, options) as Promise<
      Readonly<Infer<R>>
    >;
  }

  reply<F extends Fields>(type: MessageType<F>, message: Readonly<Infer<F>>): void {
    replyTo(this.#host, this.name, this.current, type, message);
  }
}

/** Counters of one actor, as `ActorRef.stats()` shows them. */
export interface ActorStats {
  /** The actor's name. */
  readonly name: string;
  /** Messages waiting in the mailbox. */
  readonly queued: number;
  /** Senders waiting for room (policy `wait`). */
  readonly waiting: number;
  /** Mailbox capacity. */
  readonly capacity: number;
  /** Messages handled successfully. */
  readonly handled: number;
  /** Messages whose handler threw or rejected. */
  readonly failed: number;
  /** Messages dropped by the overflow policy. */
  readonly dropped: number;
  /** Messages still queued when the actor stopped (not handled; requesters were told). */
  readonly discarded: number;
  /** Restarts so far. */
  readonly restarts: number;
  /** Whether the actor has stopped. */
  readonly stopped: boolean;
}

/** How a cell is configured. */
export interface CellOptions {
  readonly mailbox: MailboxOptions | undefined;
  readonly supervision: SupervisionPolicy | undefined;
  readonly timing: DeliveryTiming | undefined;
  /** Types received as views from other processes (`true`: all). */
  readonly views: boolean | readonly MessageType[] | undefined;
}

const NO_WAITERS: Waiter[] = [];

/** One actor at run time. */
export class Cell {
  readonly name: string;
  readonly mailbox: Mailbox<Sub, Envelope>;
  readonly subs = new Map<MessageType, Sub>();
  readonly ctx: CellContext;
  /** In the bus's ready queue. */
  scheduled = false;
  /** Not drainable now: starting, running an async handler, restarting. */
  blocked = false;
  /**
   * Counts every delivery queued here (or waiting for room), when set: a
   * MonolithBus's sync members' proxies, so its emitters know in one read
   * whether any target has something queued.
   */
  counter: Int32Array | undefined = undefined;
  /**
   * Set on a MonolithBus's sync members' proxies: takes a send or request
   * addressed to the actor by name as a direct call when the member is quiet,
   * and returns false when it is not (the delivery then joins the mailbox).
   */
  direct:
    | ((type: MessageType, message: AnyMessage, meta: Envelope | undefined) => boolean)
    | undefined = undefined;
  /**
   * Handlers of its actor running outside its mailbox (a MonolithBus's
   * direct calls that returned a pending promise): not quiet until they settle.
   */
  held = 0;
  stopped = false;
  actor: Actor;
  readonly #source: ActorSource;
  readonly #host: CellHost;
  readonly #policy: SupervisionPolicy;
  readonly #timing: DeliveryTiming | undefined;
  /** Deliveries until the next one is timed. */
  #untilSample = 0;
  /** In its drain loop (a handler of it may be running). */
  #draining = false;
  #waiters: Waiter[] = NO_WAITERS;
  #waitHead = 0;
  /** Waiting senders: `#waiters.length - #waitHead`, kept as a field for the hot path. */
  #waitCount = 0;
  #handled = 0;
  #failed = 0;
  #dropped = 0;
  #discarded = 0;
  #restarts = 0;
  #restartTimes: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Clears a scheduled restart's timer and abort listener. */
  #cancelRestart: (() => void) | undefined = undefined;
  /** The pending lifecycle step or async handler, so stop can wait for it. */
  #pending: Promise<void> | undefined = undefined;
  #stopping: Promise<void> | undefined = undefined;

  constructor(name: string, source: ActorSource, host: CellHost, options: CellOptions) {
    this.name = name;
    this.#source = source;
    this.#host = host;
    this.#policy = options.supervision ?? DEFAULT_SUPERVISION;
    this.#timing = options.timing;
    // The first delivery is timed, so an actor that gets any has a figure.
    this.#untilSample = options.timing === undefined ? 0 : 1;
    this.ctx = new CellContext(name, host);
    this.actor = typeof source === "function" ? source() : source;
    const views = options.views ?? false;
    for (const h of this.actor.handlers) {
      if (this.subs.has(h.type)) {
        throw new BusError(
          "BUS_INVALID_OPTION",
          `actor '${name}' has two handlers for ${h.type.name}`,
          { actor: name, messageType: h.type.name },
        );
      }
      const asView = views === true || (views !== false && views.includes(h.type));
      this.subs.set(h.type, new Sub(this, h.type, h.handle, asView));
    }
    if (views !== true && views !== false) {
      for (const type of views) {
        if (!this.subs.has(type)) {
          throw new BusError(
            "BUS_INVALID_OPTION",
            `actor '${name}' asks for views of ${type.name} but has no handler for it`,
            { actor: name, messageType: type.name },
          );
        }
      }
    }
    // An actor with one handler needs no key per delivery: its mailbox holds messages only.
    const only = this.subs.size === 1 ? this.subs.values().next().value : undefined;
    this.mailbox = new Mailbox<Sub, Envelope>(options.mailbox, options.timing !== undefined, only);
  }

  /** Senders waiting for room. */
  get waiting(): number {
    return this.#waitCount;
  }

  /** Nothing queued, waiting, running or pending. */
  get quiet(): boolean {
    return this.stopped ||
      (this.mailbox.size === 0 && this.waiting === 0 && !this.blocked && !this.scheduled &&
        this.#timer === undefined && this.held === 0);
  }

  /** Runs the start hook; messages queue until it is done. */
  start(): void {
    this.#runStart();
  }

  /**
   * Queues a delivery; returns a promise only when the sender must wait.
   * @throws {MailboxFullError} policy `error`, or too many waiting senders.
   */
  push(sub: Sub, message: unknown, meta: Envelope | undefined): void | Promise<void> {
    if (this.stopped) throw this.#stoppedError(sub.type);
    const mb = this.mailbox;
    if (this.#waitCount === 0) {
      const r = mb.push(sub, message, meta);
      if (r === QUEUED) {
        if (mb.stamps !== undefined && --this.#untilSample === 0) this.#stamp();
        if (this.counter !== undefined) this.counter[0]!++;
        if (!this.scheduled && !this.blocked) this.#host.schedule(this);
        return;
      }
      if (r !== FULL) {
        // drop-oldest: the displaced delivery is in mb.out*.
        this.#dropped++;
        const dropped = mb.outMeta;
        const type = mb.outKey?.type;
        mb.release();
        if (dropped !== undefined) this.#failDropped(dropped, type);
        if (!this.scheduled && !this.blocked) this.#host.schedule(this);
        return;
      }
    }
    switch (mb.overflow) {
      case "wait":
        if (this.waiting < mb.maxWaiting) return this.#wait(sub, message, meta);
        throw new MailboxFullError(this.name, sub.type.name, message);
      case "drop-newest":
        this.#dropped++;
        if (meta !== undefined) this.#failDropped(meta, sub.type);
        return;
      default:
        throw new MailboxFullError(this.name, sub.type.name, message);
    }
  }

  /**
   * Stamps the delivery just queued, a sampled one: negated when anything
   * was ahead of it (another delivery, a handler running or pending).
   */
  #stamp(): void {
    this.#untilSample = this.#timing!.sampleEvery;
    const mb = this.mailbox;
    const now = performance.now();
    const alone = mb.size === 1 && !this.blocked && !this.#draining;
    mb.stamps![(mb.head + mb.size - 1) & mb.mask] = alone ? now : -now;
  }

  /** A sampled delivery's handler starts now: one clock read. */
  #started(queuedAt: number): void {
    const now = performance.now();
    if (queuedAt > 0) this.#timing!.hop.record((now - queuedAt) * 1e6);
    else this.#timing!.queued.record((now + queuedAt) * 1e6);
  }

  #wait(sub: Sub, message: unknown, meta: Envelope | undefined): Promise<void> {
    if (this.counter !== undefined) this.counter[0]!++;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    if (this.#waiters === NO_WAITERS) this.#waiters = [];
    this.#waiters.push({ sub, message, meta, resolve, reject });
    this.#waitCount++;
    // A sender that drops this promise must not crash the process when the
    // actor stops: the message is counted as discarded either way.
    promise.catch(() => {});
    return promise;
  }

  #admitWaiters(): void {
    const waiters = this.#waiters;
    const mb = this.mailbox;
    while (this.#waitHead < waiters.length && mb.hasRoom) {
      const w = waiters[this.#waitHead]!;
      waiters[this.#waitHead++] = undefined as unknown as Waiter;
      this.#waitCount--;
      mb.push(w.sub, w.message, w.meta);
      w.resolve();
    }
    if (this.#waitHead === waiters.length) {
      waiters.length = 0;
      this.#waitHead = 0;
    }
  }

  /** Handles up to `budget` messages; returns how many it took. */
  drain(budget: number): number {
    const mb = this.mailbox;
    const slots = mb.slots;
    const metas = mb.metas;
    const mask = mb.mask;
    const stamps = mb.stamps;
    const only = mb.only;
    const ctx = this.ctx;
    let n = 0;
    this.#draining = true;
    while (n < budget && mb.size > 0) {
      const i = mb.head;
      let sub: Sub;
      let message: AnyMessage;
      if (only !== undefined) {
        sub = only;
        message = slots[i] as AnyMessage;
        slots[i] = undefined;
      } else {
        const j = 2 * i;
        sub = slots[j] as Sub;
        message = slots[j + 1] as AnyMessage;
        slots[j] = undefined;
        slots[j + 1] = undefined;
      }
      let meta: Envelope | undefined = undefined;
      if (mb.metaCount !== 0) {
        meta = metas[i];
        if (meta !== undefined) {
          metas[i] = undefined;
          mb.metaCount--;
        }
      }
      if (stamps !== undefined && stamps[i] !== 0) {
        this.#started(stamps[i]!);
        stamps[i] = 0;
      }
      mb.head = (i + 1) & mask;
      mb.size--;
      n++;
      ctx.current = meta;
      let r: HandlerResult;
      try {
        r = sub.fn(message, ctx);
      } catch (error) {
        this.#handlerFailed(sub.type, error, meta);
        if (this.blocked || this.stopped) break;
        continue;
      }
      if (r !== undefined && r instanceof Promise) {
        this.blocked = true;
        this.#pending = r.then(
          () => this.#asyncDone(meta),
          (error) => this.#asyncFailed(sub.type, error, meta),
        );
        break;
      }
      this.#handled++;
      if (meta !== undefined && !meta.answered) this.#noReply(meta, sub.type);
    }
    this.#draining = false;
    if (this.#waitCount !== 0) this.#admitWaiters();
    return n;
  }

  #asyncDone(meta: Envelope | undefined): void {
    if (this.stopped) return;
    this.#handled++;
    this.#pending = undefined;
    if (meta !== undefined && !meta.answered) this.#noReply(meta, undefined);
    this.ctx.current = undefined;
    this.#unblock();
  }

  #asyncFailed(type: MessageType, error: unknown, meta: Envelope | undefined): void {
    if (this.stopped) {
      this.#host.logger.warn("handler failed after its actor stopped", {
        actor: this.name,
        messageType: type.name,
        error,
      });
      return;
    }
    this.#pending = undefined;
    this.ctx.current = undefined;
    this.blocked = false;
    this.#handlerFailed(type, error, meta);
    if (!this.blocked) this.#unblock();
  }

  #unblock(): void {
    this.blocked = false;
    if (!this.stopped && !this.scheduled && this.mailbox.size > 0) this.#host.schedule(this);
    this.#host.checkIdle();
  }

  #noReply(meta: Envelope, type: MessageType | undefined): void {
    meta.answered = true;
    this.#host.failRequest(meta, noReplyError(this.name, type));
  }

  #failDropped(meta: Envelope, type: MessageType | undefined): void {
    meta.answered = true;
    this.#host.failRequest(
      meta,
      new BusError(
        "BUS_DROPPED",
        `request to actor '${this.name}' was dropped by its mailbox's overflow policy`,
        { actor: this.name, messageType: type?.name },
      ),
    );
  }

  #stoppedError(type: MessageType): BusError {
    return new BusError(
      "BUS_ACTOR_STOPPED",
      `actor '${this.name}' has stopped; ${type.name} not delivered`,
      { actor: this.name, messageType: type.name },
    );
  }

  #handlerFailed(type: MessageType, error: unknown, meta: Envelope | undefined): void {
    this.#failed++;
    if (meta !== undefined && !meta.answered) {
      meta.answered = true;
      this.#host.failRequest(meta, handlerFailedError(this.name, type, error));
    }
    this.#supervise("handle", type.name, error);
  }

  /** Applies the policy to a failure and reports it. */
  #supervise(phase: ActorFailure["phase"], messageType: string | undefined, error: unknown): void {
    const policy = this.#policy;
    let action: FailureAction;
    let delay = 0;
    if (this.stopped || this.#stopping !== undefined) {
      action = "stop";
    } else if (policy.strategy === "restart" && this.#host.signal.aborted) {
      // The bus is shutting down: a restart would run the start hook again, i.e. start the
      // actor's work (a producer's loop, say) anew against peers that are leaving. A failed
      // start hook stops the actor; a failed handler leaves the same instance draining its
      // mailbox (what a restart would have done next, without the new start).
      action = phase === "start" ? "stop" : "resume";
    } else if (policy.strategy === "restart") {
      const now = performance.now();
      const within = policy.withinMs ?? 10_000;
      const times = this.#restartTimes;
      while (times.length > 0 && now - times[0]! > within) times.shift();
      if (times.length >= (policy.maxRestarts ?? 3)) {
        action = "stop";
      } else {
        times.push(now);
        action = "restart";
        delay = Math.min(
          policy.maxBackoffMs ?? 1_000,
          (policy.backoffMs ?? 10) * 2 ** (times.length - 1),
        );
      }
    } else {
      action = policy.strategy;
    }
    if (action === "restart") this.#restarts++;
    const failure: ActorFailure = {
      actor: this.name,
      phase,
      messageType,
      error,
      action,
      restarts: this.#restartTimes.length,
    };
    this.#host.report(failure);
    if (action === "restart") {
      this.blocked = true;
      this.#scheduleRestart(phase, delay);
    } else if (action === "stop" || action === "escalate") {
      this.blocked = true;
      if (this.#stopping === undefined) {
        this.#stopping = this.#stop(true).then(() => {
          if (action === "escalate") this.#host.escalate(failure);
        });
      }
    }
  }

  /**
   * Restarts the actor after `delay`, unless the bus begins shutting down
   * first (or meanwhile): no actor is restarted once a shutdown began, as a
   * failure after the abort would have been handled (see `#supervise`). A
   * failed handler's instance resumes, draining its mailbox; an actor whose
   * start hook failed stops. The abort ends the wait at once, so the shutdown
   * does not wait out the backoff.
   */
  #scheduleRestart(phase: ActorFailure["phase"], delay: number): void {
    const signal = this.#host.signal;
    const cancel = () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      signal.removeEventListener("abort", fire);
      this.#cancelRestart = undefined;
    };
    const fire = () => {
      cancel();
      if (this.stopped || this.#stopping !== undefined) return;
      if (!signal.aborted) {
        this.#restart();
        return;
      }
      // Not restarted after all: the counters keep to restarts that happened (an instance whose
      // first start failed never started, so it gets no stop hook).
      this.#restarts--;
      this.#restartTimes.pop();
      this.#host.logger.warn("restart not made: the bus is shutting down", {
        actor: this.name,
        phase,
      });
      if (phase === "start") this.#stopping = this.#stop(true);
      else this.#unblock();
    };
    this.#timer = setTimeout(fire, delay);
    signal.addEventListener("abort", fire);
    this.#cancelRestart = cancel;
  }

  #restart(): void {
    const step = this.#callHook("stop").then((stopped) => {
      if (this.stopped || this.#stopping !== undefined) return;
      if (this.#host.signal.aborted) {
        // The shutdown began while the old instance's stop hook ran: that instance has
        // stopped, and no new one starts now, so the actor stops (its hook is not run twice).
        this.#stopping = this.#stop(true, true, false);
        return;
      }
      if (!stopped) this.#host.logger.warn("stop hook failed during restart", { actor: this.name });
      if (typeof this.#source === "function") {
        try {
          this.#rebind(this.#source());
        } catch (error) {
          this.#supervise("start", undefined, error);
          return;
        }
      }
      this.#runStart();
    });
    this.#pending = step;
  }

  #rebind(actor: Actor): void {
    const fresh = new Map<MessageType, HandleFn>();
    for (const h of actor.handlers) fresh.set(h.type, h.handle);
    for (const [type, sub] of this.subs) {
      const fn = fresh.get(type);
      if (fn === undefined) {
        throw new BusError(
          "BUS_NO_HANDLER",
          `restarted actor '${this.name}' has no handler for ${type.name}`,
          { actor: this.name, messageType: type.name },
        );
      }
      sub.fn = fn;
    }
    this.actor = actor;
  }

  #runStart(): void {
    const hook = this.actor.start;
    if (hook === undefined) {
      this.#unblock();
      return;
    }
    this.blocked = true;
    let r: HandlerResult;
    try {
      r = hook.call(this.actor, this.ctx);
    } catch (error) {
      this.#supervise("start", undefined, error);
      return;
    }
    if (r instanceof Promise) {
      this.#pending = r.then(
        () => {
          this.#pending = undefined;
          this.#unblock();
        },
        (error) => {
          this.#pending = undefined;
          this.#supervise("start", undefined, error);
        },
      );
    } else {
      this.#unblock();
    }
  }

  /** Calls a lifecycle hook; resolves false (after reporting) if it failed. */
  async #callHook(which: "stop"): Promise<boolean> {
    const hook = this.actor[which];
    if (hook === undefined) return true;
    try {
      await hook.call(this.actor, this.ctx);
      return true;
    } catch (error) {
      this.#host.report({
        actor: this.name,
        phase: which,
        messageType: undefined,
        error,
        action: "stop",
        restarts: this.#restartTimes.length,
      });
      return false;
    }
  }

  /**
   * Stops the actor: no more deliveries, queued ones discarded (counted;
   * requesters and waiting senders get `BUS_ACTOR_STOPPED`), then the stop
   * hook. Idempotent.
   */
  stop(waitForHandler = true): Promise<void> {
    if (this.#stopping === undefined) this.#stopping = this.#stop(false, waitForHandler);
    return this.#stopping;
  }

  /**
   * `waitForHandler`: let a running async handler finish first. Shutdown
   * past its deadline does not wait: the handler's eventual result is ignored.
   */
  async #stop(afterFailure: boolean, waitForHandler = true, stopHook = true): Promise<void> {
    this.blocked = true;
    this.#host.removeCell(this);
    this.#cancelRestart?.();
    if (this.#pending !== undefined && waitForHandler) await this.#pending;
    this.stopped = true;
    const mb = this.mailbox;
    while (mb.size > 0) {
      mb.take();
      this.#discarded++;
      const meta = mb.outMeta;
      const type = mb.outKey!.type;
      if (meta !== undefined && !meta.answered) {
        meta.answered = true;
        this.#host.failRequest(meta, this.#stoppedError(type));
      }
    }
    mb.release();
    const waiters = this.#waiters;
    for (let i = this.#waitHead; i < waiters.length; i++) {
      const w = waiters[i]!;
      this.#discarded++;
      w.reject(this.#stoppedError(w.sub.type));
    }
    this.#waiters = NO_WAITERS;
    this.#waitHead = 0;
    this.#waitCount = 0;
    // An actor stopped by its policy after a failed start never started.
    if (
      stopHook &&
      (!afterFailure || this.#restartTimes.length > 0 || this.#handled + this.#failed > 0)
    ) {
      await this.#callHook("stop");
    }
    this.#host.checkIdle();
  }

  /** A snapshot of the counters. */
  stats(): ActorStats {
    return {
      name: this.name,
      queued: this.mailbox.size,
      waiting: this.waiting,
      capacity: this.mailbox.capacity,
      handled: this.#handled,
      failed: this.#failed,
      dropped: this.#dropped,
      discarded: this.#discarded,
      restarts: this.#restarts,
      stopped: this.stopped,
    };
  }
}

/**
 * `ctx.reply` of actor `actor` handling `envelope`: answers it once.
 *
 * @throws {BusError} `BUS_NOT_A_REQUEST` when there is no unanswered request.
 */
export function replyTo(
  host: Pick<CellHost, "reply">,
  actor: string,
  envelope: Envelope | undefined,
  type: MessageType,
  message: AnyMessage,
): void {
  if (envelope === undefined || envelope.answered) {
    throw new BusError(
      "BUS_NOT_A_REQUEST",
      `actor '${actor}' replied ${type.name} but is not handling an unanswered request`,
      { actor, messageType: type.name },
    );
  }
  envelope.answered = true;
  host.reply(envelope, type, message);
}

/** How a request fails when its handler ended without replying. */
export function noReplyError(actor: string, type: MessageType | undefined): BusError {
  return new BusError(
    "BUS_NO_REPLY",
    `actor '${actor}' finished handling a request without replying`,
    { actor, messageType: type?.name },
  );
}

/** How a request fails when its handler threw or rejected (`error`). */
export function handlerFailedError(actor: string, type: MessageType, error: unknown): BusError {
  return new BusError("BUS_HANDLER_FAILED", `actor '${actor}' failed handling ${type.name}`, {
    actor,
    messageType: type.name,
    cause: error,
  });
}
