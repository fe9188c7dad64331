/**
 * The reference pipeline's actors. They talk only through their context, so
 * the same objects run on one MessageBus or spread over processes.
 *
 * Data flow (every arrow keeps its order, which is what makes the results
 * identical in every deployment):
 *
 * ```
 * polygon_collector ─send─► market_relay ─publish V2Swap─► arbitrage_strategy, metrics_collector
 * arbitrage_strategy ─send ArbitrageSignal─► order_executor
 * order_executor ─request RiskCheck─► risk_manager ─reply RiskVerdict─► order_executor
 * order_executor ─send ArbitrageSignal, publish OrderExecution─► audit_trail, risk_manager, metrics
 * StreamEnd follows the same path behind the last message, so audit_trail knows the run is over.
 * ```
 *
 * @module
 */
import { type Actor, type Context, on } from "../../mod.ts";
import { defineMessage, field, type MessageType } from "../../mod.ts";
import { ArbitrageDetector, type ArbitrageDetectorOptions } from "./arbitrage.ts";
import { executionLine, repeatLine, signalLine } from "./audit.ts";
import {
  FillSimulator,
  type FillSimulatorOptions,
  notionalOf,
  RiskBook,
  type RiskBookOptions,
} from "./execution.ts";
import { ExecutionLedger } from "./ledger.ts";
import {
  ArbitrageSignal,
  OrderExecution,
  RiskCheck,
  RiskVerdict,
  StreamEnd,
  V2Swap,
} from "./messages.ts";

/** The actors' names, as the topologies in `config/` place them. */
export const ACTOR = Object.freeze({
  collector: "polygon_collector",
  relay: "market_relay",
  strategy: "arbitrage_strategy",
  executor: "order_executor",
  risk: "risk_manager",
  audit: "audit_trail",
  metrics: "metrics_collector",
});

/** Every actor name of the pipeline. */
export const PIPELINE_ACTORS: readonly string[] = Object.values(ACTOR);

/** The collector's self-addressed nudge: produce the next batch. */
export const Produce = defineMessage({
  id: 25,
  name: "Produce",
  topic: "control",
  fields: { batch: field.u32() },
});

/** Where swaps come from: a generator or a replayed file. `undefined` ends the stream. */
export interface SwapFeed {
  next(): V2Swap | undefined;
}

/**
 * Emits the feed's swaps to the relay in batches, yielding between batches
 * so the rest of the pipeline runs while it produces.
 */
export class PolygonCollector implements Actor {
  /** Swaps sent so far. */
  sent = 0;
  /** Wall-clock time its production started, in ms since the epoch (0: not started). */
  startedAtMs = 0;
  readonly #feed: SwapFeed;
  readonly #batch: number;
  readonly #rate: number | undefined;
  #startedAt = 0;
  readonly handlers = [
    on(Produce, async ({ batch }, ctx) => {
      // Shutdown began: stop producing, so what is in flight can drain.
      if (ctx.signal.aborted) return;
      if (this.#rate !== undefined) await this.#pace(ctx.signal);
      for (let i = 0; i < batch; i++) {
        const swap = this.#feed.next();
        if (swap === undefined) {
          return ctx.send(ACTOR.relay, StreamEnd, { swaps: BigInt(this.sent), signals: 0n });
        }
        this.sent++;
        const wait = ctx.send(ACTOR.relay, V2Swap, swap);
        if (wait !== undefined) await wait;
      }
      return ctx.send(ctx.name, Produce, { batch });
    }),
  ];

  /**
   * Creates a collector over `feed`. Without `rate` it sends 256 swaps per
   * turn as fast as the pipeline takes them; with `rate` (swaps per second)
   * it sends a millisecond's worth per turn and waits for the schedule.
   */
  constructor(feed: SwapFeed, options: { rate?: number | undefined } = {}) {
    this.#feed = feed;
    this.#rate = options.rate;
    this.#batch = options.rate === undefined ? 256 : Math.max(1, Math.floor(options.rate / 1000));
  }

  /** Starts production by nudging itself. */
  start(ctx: Context): void | Promise<void> {
    this.#startedAt = performance.now();
    this.startedAtMs = performance.timeOrigin + this.#startedAt;
    return ctx.send(ctx.name, Produce, { batch: this.#batch });
  }

  /** Waits until the schedule allows the next batch (or shutdown begins). */
  #pace(signal: AbortSignal): Promise<void> | undefined {
    const due = this.#startedAt + (this.sent / (this.#rate as number)) * 1000;
    const wait = due - performance.now();
    if (wait < 1) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}

/** Fans market data out: every swap it receives is published on `market_data`. */
export class MarketRelay implements Actor {
  readonly handlers = [
    on(V2Swap, (swap, ctx) => ctx.publish(V2Swap, swap)),
    on(StreamEnd, (end, ctx) => ctx.send(ACTOR.strategy, StreamEnd, end)),
  ];
}

/**
 * Runs the {@linkcode ArbitrageDetector} on every swap and sends signals to
 * the executor; the end-of-stream marker it forwards says how many it sent
 * (ids 1..signals, which the audit trail's ledger relies on).
 */
export class ArbitrageStrategy implements Actor {
  readonly detector: ArbitrageDetector;
  /** The end-of-stream marker it forwarded (for a restarted executor that may have lost it). */
  forwardedEnd: StreamEnd | undefined;
  readonly handlers = [
    on(V2Swap, (swap, ctx) => {
      const signal = this.detector.onSwap(swap);
      if (signal !== undefined) return ctx.send(ACTOR.executor, ArbitrageSignal, signal);
    }),
    on(StreamEnd, (end, ctx) => {
      this.forwardedEnd = { swaps: end.swaps, signals: BigInt(this.detector.signals) };
      return ctx.send(ACTOR.executor, StreamEnd, this.forwardedEnd);
    }),
  ];

  #ctx: Context | undefined;

  /** Creates the strategy. */
  constructor(options: ArbitrageDetectorOptions = {}) {
    this.detector = new ArbitrageDetector(options);
  }

  /** Keeps its context, to resend the end marker to a restarted executor. */
  start(ctx: Context): void {
    this.#ctx = ctx;
  }

  /** Sends the end-of-stream marker again, if it forwarded one (the executor restarted). */
  resendEnd(): void | Promise<void> {
    if (this.forwardedEnd === undefined || this.#ctx === undefined) return;
    return this.#ctx.send(ACTOR.executor, StreamEnd, this.forwardedEnd);
  }
}

/** Asks the risk manager about each signal, simulates the fill, reports it. */
export class OrderExecutor implements Actor {
  /** Orders filled. */
  fills = 0;
  /** Orders the risk manager refused. */
  refused = 0;
  /** The end-of-stream marker it forwarded (for a restarted audit trail that may have lost it). */
  forwardedEnd: StreamEnd | undefined;
  /** Realised P&L of the fills, in micro-units of the quote token. */
  pnlMicro = 0n;
  readonly #sim: FillSimulator;
  readonly #timeoutMs: number;
  readonly handlers = [
    on(ArbitrageSignal, async (signal, ctx) => {
      const verdict = await ctx.request(
        ACTOR.risk,
        RiskCheck,
        { opportunityId: signal.opportunityId, notionalMicro: notionalOf(signal) },
        { reply: RiskVerdict, timeoutMs: this.#timeoutMs },
      );
      const execution = this.#sim.fill(signal, verdict);
      if (execution.filled) {
        this.fills++;
        this.pnlMicro += execution.pnlMicro;
      } else this.refused++;
      // Await only a send that has to wait for room: `await undefined` still costs a turn.
      const sent = ctx.send(ACTOR.audit, ArbitrageSignal, signal);
      if (sent !== undefined) await sent;
      const published = ctx.publish(OrderExecution, execution);
      if (published !== undefined) await published;
    }),
    on(StreamEnd, (end, ctx) => {
      this.forwardedEnd = { swaps: end.swaps, signals: end.signals };
      return ctx.send(ACTOR.audit, StreamEnd, end);
    }),
  ];

  #ctx: Context | undefined;

  /** Creates the executor; `riskTimeoutMs` bounds each risk check (default 5 s). */
  constructor(options: FillSimulatorOptions & { riskTimeoutMs?: number } = {}) {
    this.#sim = new FillSimulator(options);
    this.#timeoutMs = options.riskTimeoutMs ?? 5_000;
  }

  /** Keeps its context, to resend the end marker to a restarted audit trail. */
  start(ctx: Context): void {
    this.#ctx = ctx;
  }

  /** Sends the end-of-stream marker again, if it forwarded one (the audit trail restarted). */
  resendEnd(): void | Promise<void> {
    if (this.forwardedEnd === undefined || this.#ctx === undefined) return;
    return this.#ctx.send(ACTOR.audit, StreamEnd, this.forwardedEnd);
  }
}

/** Answers risk checks from its {@linkcode RiskBook} and books every execution. */
export class RiskManager implements Actor {
  readonly book: RiskBook;
  readonly handlers = [
    on(RiskCheck, (check, ctx) => ctx.reply(RiskVerdict, this.book.check(check))),
    on(OrderExecution, (execution) => this.book.record(execution)),
  ];

  /** Creates the risk manager. */
  constructor(options: RiskBookOptions = {}) {
    this.book = new RiskBook(options);
  }
}

/** Where the audit trail writes its lines. */
export interface AuditSink {
  /** Appends one line (it ends with a newline). */
  write(line: string): void | Promise<void>;
}

/**
 * Appends every signal and execution to its sink, in the order the executor
 * sent them; calls `onEnd` when the end of the stream arrives.
 *
 * Its {@linkcode ExecutionLedger} books each opportunity's first execution.
 * A signal or execution that comes again for an id already seen (at-least-once
 * delivery after the executor restarted) is still written, as a line starting
 * with `repeat `, but booked once.
 */
export class AuditTrail implements Actor {
  /** Lines written, repeats included. */
  lines = 0;
  /** Wall-clock time the end of the stream reached it, in ms since the epoch (0: not yet). */
  endedAtMs = 0;
  /** Accounts for every signal: first executions booked, repeats counted, lost ids named. */
  readonly ledger: ExecutionLedger = new ExecutionLedger();
  readonly #sink: AuditSink;
  readonly #onEnd: (swaps: bigint) => void;
  readonly handlers = [
    on(ArbitrageSignal, (signal) => {
      const line = signalLine(signal);
      return this.#write(this.ledger.signal(signal) ? line : repeatLine(line));
    }),
    on(OrderExecution, (execution) => {
      const line = executionLine(execution);
      return this.#write(this.ledger.execution(execution) ? line : repeatLine(line));
    }),
    on(StreamEnd, (end) => {
      this.endedAtMs = performance.timeOrigin + performance.now();
      this.ledger.end(end.signals);
      this.#onEnd(end.swaps);
    }),
  ];

  /** Creates the audit trail. */
  constructor(sink: AuditSink, onEnd: (swaps: bigint) => void = () => {}) {
    this.#sink = sink;
    this.#onEnd = onEnd;
  }

  #write(line: string): void | Promise<void> {
    this.lines++;
    return this.#sink.write(line);
  }
}

/** Counts what flows past: swaps, volume per pool, executions. */
export class MetricsCollector implements Actor {
  swaps = 0;
  executions = 0;
  /** Swaps per pool, indexed by the address's first and last bytes (no string per swap). */
  readonly #perPool = new Uint32Array(65_536);
  /** The indexes seen, in the order they first came. */
  readonly #pools: number[] = [];
  readonly handlers = [
    on(V2Swap, (swap) => {
      this.swaps++;
      const a = swap.poolAddress;
      const key = (a[0] as number) * 256 + (a[19] as number);
      if (this.#perPool[key]!++ === 0) this.#pools.push(key);
    }),
    on(OrderExecution, () => void this.executions++),
  ];

  /** Swaps seen per pool, by the pool address's first and last byte (e.g. "10:01"). */
  get perPool(): Map<string, number> {
    const named = new Map<string, number>();
    for (const key of this.#pools) {
      named.set(
        `${(key >> 8).toString(16)}:${(key & 255).toString(16).padStart(2, "0")}`,
        this.#perPool[key]!,
      );
    }
    return named;
  }
}

/** Which published types each actor subscribes to (others reach it by name only). */
export const SUBSCRIPTIONS: Readonly<Record<string, readonly MessageType[]>> = Object.freeze({
  [ACTOR.collector]: [],
  [ACTOR.relay]: [],
  [ACTOR.strategy]: [V2Swap, StreamEnd],
  [ACTOR.executor]: [],
  [ACTOR.risk]: [OrderExecution],
  [ACTOR.audit]: [OrderExecution],
  [ACTOR.metrics]: [V2Swap, OrderExecution],
});
