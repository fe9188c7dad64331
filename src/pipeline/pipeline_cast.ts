/**
 * The actors of one pipeline run and how they are spawned and counted: the
 * one piece shared by the monolith (`runPipeline`) and by each process group
 * of a split run (`runGroup`), so both deployments run exactly the same cast.
 *
 * @module
 */
import type { Actor } from "../actor/mod.ts";
import type { ActorRef, MessageBus } from "../bus/mod.ts";
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

/** Where a run's swaps come from and how fast. */
export interface SwapSupplyOptions {
  /** Swaps to generate. Default: 20,000. Ignored with `replay`. */
  swaps?: number;
  /** Seed of the market. Default: 1. */
  seed?: number;
  /** Swaps to replay instead of generating them. */
  replay?: readonly V2Swap[];
  /** Swaps per second the collector produces. Default: as fast as the pipeline takes them. */
  rate?: number;
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

function feedOf(options: SwapSupplyOptions): SwapFeed {
  if (options.replay !== undefined) {
    const swaps = options.replay;
    let i = 0;
    return { next: () => swaps[i++] };
  }
  const source = new SwapSource({ seed: options.seed ?? 1 });
  let left = options.swaps ?? 20_000;
  return { next: () => (left-- > 0 ? source.next() : undefined) };
}

/** The pipeline's actors for one run, in spawn order: the producer last. */
export class PipelineCast {
  readonly collector: PolygonCollector;
  readonly strategy: ArbitrageStrategy = new ArbitrageStrategy();
  readonly executor: OrderExecutor = new OrderExecutor();
  readonly risk: RiskManager = new RiskManager();
  readonly audit: AuditTrail;
  /** Every actor by name, in the order they are spawned. */
  readonly actors: ReadonlyMap<string, Actor>;
  readonly #latency = new Map<string, LatencyRecorder>();
  readonly #refs: ActorRef[] = [];

  /** Creates the actors; `onEnd` is called when the end of the stream reaches the audit trail. */
  constructor(options: SwapSupplyOptions & { audit: AuditSink; onEnd: (swaps: bigint) => void }) {
    this.collector = new PolygonCollector(feedOf(options), { rate: options.rate });
    this.audit = new AuditTrail(options.audit, options.onEnd);
    this.actors = new Map<string, Actor>([
      [ACTOR.relay, new MarketRelay()],
      [ACTOR.strategy, this.strategy],
      [ACTOR.executor, this.executor],
      [ACTOR.risk, this.risk],
      [ACTOR.audit, this.audit],
      [ACTOR.metrics, new MetricsCollector()],
      [ACTOR.collector, this.collector],
    ]);
  }

  /** Spawns actor `name` on `bus` with its subscriptions and a latency recorder. */
  spawn(bus: MessageBus, name: string): void {
    const actor = this.actors.get(name);
    if (actor === undefined) throw new RangeError(`the pipeline has no actor '${name}'`);
    const recorder = new LatencyRecorder();
    this.#latency.set(name, recorder);
    this.#refs.push(bus.spawn(name, actor, {
      subscribe: SUBSCRIPTIONS[name] ?? [],
      latency: recorder,
      supervision: { strategy: "stop" },
    }));
  }

  /** Counters and latency of every actor spawned, in spawn order. */
  summaries(): ActorSummary[] {
    return this.#refs.map((ref) => {
      const s = ref.stats();
      const r = this.#latency.get(s.name);
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
    });
  }
}
