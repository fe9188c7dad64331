/**
 * Runs the whole reference pipeline on one MessageBus (the monolith
 * deployment) and sums up what happened.
 *
 * @module
 */
import type { Logger } from "../actor/mod.ts";
import { type ActorRef, MessageBus, type ShutdownReport } from "../bus/mod.ts";
import { LatencyRecorder } from "../metrics/mod.ts";
import {
  ACTOR,
  ArbitrageStrategy,
  type AuditSink,
  AuditTrail,
  MarketRelay,
  MetricsCollector,
  OrderExecutor,
  PolygonCollector,
  RiskManager,
  SUBSCRIPTIONS,
  type SwapFeed,
} from "./actors.ts";
import { SwapSource } from "./market.ts";
import type { V2Swap } from "./messages.ts";

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions {
  /** Where the audit trail writes. */
  audit: AuditSink;
  /** Swaps to generate. Default: 20,000. Ignored with `replay`. */
  swaps?: number;
  /** Seed of the market. Default: 1. */
  seed?: number;
  /** Swaps per second the collector produces. Default: as fast as the pipeline takes them. */
  rate?: number;
  /** Swaps to replay instead of generating them. */
  replay?: readonly V2Swap[];
  /** Round-trip every message through the codec, as a split deployment would. Default: false. */
  faithful?: boolean;
  /** Where the runtime logs. Default: nowhere. */
  logger?: Logger;
  /** Stops the run early (the summary then shows what was in flight). */
  signal?: AbortSignal;
  /** How long shutdown may drain mailboxes, in ms. Default: 5000. */
  drainMs?: number;
}

/** Counters and latency of one actor. */
export interface ActorSummary {
  readonly name: string;
  readonly handled: number;
  readonly failed: number;
  readonly dropped: number;
  readonly discarded: number;
  readonly restarts: number;
  /** Mailbox wait plus handling, median and 99th percentile, in ns. */
  readonly p50Ns: number;
  readonly p99Ns: number;
}

/** What a run did. Everything but latencies and time is the same for the same inputs. */
export interface PipelineSummary {
  readonly swaps: number;
  readonly signals: number;
  readonly fills: number;
  readonly refused: number;
  readonly pnlMicro: bigint;
  readonly halted: boolean;
  readonly exposureMicro: bigint;
  readonly auditLines: number;
  /** Whether the end of the stream reached the audit trail (false when stopped early). */
  readonly completed: boolean;
  readonly actors: readonly ActorSummary[];
  readonly shutdown: ShutdownReport;
  readonly elapsedMs: number;
}

function feedOf(options: PipelineOptions): SwapFeed {
  if (options.replay !== undefined) {
    const swaps = options.replay;
    let i = 0;
    return { next: () => swaps[i++] };
  }
  const source = new SwapSource({ seed: options.seed ?? 1 });
  let left = options.swaps ?? 20_000;
  return { next: () => (left-- > 0 ? source.next() : undefined) };
}

/** Runs the pipeline in this process until the stream ends (or `signal` aborts). */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const started = performance.now();
  const bus = new MessageBus({
    faithful: options.faithful ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const collector = new PolygonCollector(feedOf(options), { rate: options.rate });
  const strategy = new ArbitrageStrategy();
  const executor = new OrderExecutor();
  const risk = new RiskManager();
  let completed = false;
  const { promise: ended, resolve: end } = Promise.withResolvers<void>();
  const audit = new AuditTrail(options.audit, () => {
    completed = true;
    end();
  });
  const actors = {
    [ACTOR.relay]: new MarketRelay(),
    [ACTOR.strategy]: strategy,
    [ACTOR.executor]: executor,
    [ACTOR.risk]: risk,
    [ACTOR.audit]: audit,
    [ACTOR.metrics]: new MetricsCollector(),
    // The producer last: everything downstream exists before the first swap.
    [ACTOR.collector]: collector,
  };
  const latency = new Map<string, LatencyRecorder>();
  const refs: ActorRef[] = [];
  for (const [name, actor] of Object.entries(actors)) {
    const recorder = new LatencyRecorder();
    latency.set(name, recorder);
    refs.push(bus.spawn(name, actor, {
      subscribe: SUBSCRIPTIONS[name] ?? [],
      latency: recorder,
      supervision: { strategy: "stop" },
    }));
  }
  const onAbort = () => end();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await ended;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  const shutdown = await bus.close({ deadlineMs: options.drainMs ?? 5_000 });
  return {
    swaps: collector.sent,
    signals: strategy.detector.signals,
    fills: executor.fills,
    refused: executor.refused,
    pnlMicro: executor.pnlMicro,
    halted: risk.book.halted,
    exposureMicro: risk.book.exposureMicro,
    auditLines: audit.lines,
    completed,
    actors: refs.map((ref) => ref.stats()).map((s) => {
      const r = latency.get(s.name);
      return {
        name: s.name,
        handled: s.handled,
        failed: s.failed,
        dropped: s.dropped,
        discarded: s.discarded,
        restarts: s.restarts,
        p50Ns: r?.percentile(0.5) ?? 0,
        p99Ns: r?.percentile(0.99) ?? 0,
      };
    }),
    shutdown,
    elapsedMs: performance.now() - started,
  };
}
