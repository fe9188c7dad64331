/**
 * The reference trading pipeline as a Mycelium app: a market-data collector,
 * a relay, an arbitrage strategy, an order executor, a risk manager, an audit
 * trail and a metrics collector. A job: it ends when the end of the swap
 * stream reaches the audit trail.
 *
 * Built only on the public entry (`mod.ts`), like any user's app. Run it with
 * the repository's `cli.ts` (`deno task start`).
 *
 * @module
 */
import { defineApp, param } from "../../mod.ts";
import {
  ACTOR,
  ArbitrageStrategy,
  AuditTrail,
  MarketRelay,
  MetricsCollector,
  OrderExecutor,
  PolygonCollector,
  Produce,
  RiskManager,
  type SwapFeed,
} from "./actors.ts";
import { readSwapFile, SwapSource } from "./market.ts";
import { OrderExecution, PIPELINE_TYPES, RiskCheck, StreamEnd, V2Swap } from "./messages.ts";
import { mergeTrading, tradingLines, type TradingPart } from "./report.ts";

/** Bytes buffered before the audit file is written to. */
const AUDIT_BUFFER = 64 * 1024;

/** Appends lines to a file through a buffer, written synchronously when full. */
export class FileSink {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #size = 0;

  /** Writes to `file` (which it closes on `close`). */
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Appends a line. */
  write(line: string): void {
    this.#pending.push(line);
    this.#size += line.length;
    if (this.#size >= AUDIT_BUFFER) this.flush();
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join(""));
    for (let at = 0; at < bytes.length;) at += this.#file.writeSync(bytes.subarray(at));
    this.#pending = [];
    this.#size = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    try {
      this.flush();
    } finally {
      this.#file.close();
    }
  }
}

/** What each process of the pipeline shares: its audit file and its swap feed. */
export interface TradingShared {
  /** The audit file's sink (in the process hosting the audit trail). */
  readonly audit: FileSink | undefined;
  /** Where the collector's swaps come from (in the process hosting the collector). */
  readonly feed: SwapFeed | undefined;
}

function feedOf(swaps: number, seed: number, replay: readonly V2Swap[] | undefined): SwapFeed {
  if (replay !== undefined) {
    let i = 0;
    return { next: () => replay[i++] };
  }
  const source = new SwapSource({ seed });
  let left = swaps;
  return { next: () => (left-- > 0 ? source.next() : undefined) };
}

/** The reference trading pipeline. */
export const tradingApp = defineApp({
  name: "mycelium",
  description: "The reference trading pipeline: collector, relay, strategy, executor, risk, audit.",
  messages: [...PIPELINE_TYPES, Produce],
  lifecycle: "job",
  params: {
    swaps: param.integer({ description: "Swaps the collector produces.", default: 20_000, min: 1 }),
    seed: param.integer({ description: "Seed of the simulated market.", default: 1, min: 1 }),
    rate: param.integer({
      description:
        "Swaps per second the collector produces. Default: as fast as the pipeline takes them.",
      min: 1,
    }),
    audit: param.path({
      description: "Audit trail file (created or truncated).",
      default: "mycelium-audit.log",
      access: "write",
    }),
    replay: param.path({
      description: "Replay swaps from a file of V2Swap frames instead of generating them.",
      access: "read",
    }),
  },
  // Under a supervisor the audit file is emptied once, here: the group hosting the audit
  // trail appends, so a restart of it keeps what its previous run wrote.
  prepare: async (params, hosted) => {
    if (hosted.has(ACTOR.audit)) await Deno.writeFile(params.audit, new Uint8Array());
  },
  setup: async (env): Promise<TradingShared> => {
    const audit = env.hosted.has(ACTOR.audit)
      ? new FileSink(
        await Deno.open(env.params.audit, {
          write: true,
          create: true,
          truncate: !env.supervised,
          append: env.supervised,
        }),
      )
      : undefined;
    const replay = env.params.replay === undefined || !env.hosted.has(ACTOR.collector)
      ? undefined
      : readSwapFile(await Deno.readFile(env.params.replay));
    return {
      audit,
      feed: env.hosted.has(ACTOR.collector)
        ? feedOf(env.params.swaps, env.params.seed, replay)
        : undefined,
    };
  },
  teardown: (shared) => shared.audit?.close(),
  actors: {
    [ACTOR.relay]: {
      create: () => new MarketRelay(),
      subscribe: [],
      supervision: { strategy: "stop" },
      stateful: false,
    },
    [ACTOR.strategy]: {
      create: (env) => {
        const strategy = new ArbitrageStrategy();
        // A restarted executor may have lost the end marker: send it again.
        env.onPeerRestart((_group, actors) => {
          if (actors.includes(ACTOR.executor)) void strategy.resendEnd();
        });
        return strategy;
      },
      subscribe: [V2Swap, StreamEnd],
      supervision: { strategy: "stop" },
    },
    [ACTOR.executor]: {
      create: (env) => {
        const executor = new OrderExecutor();
        env.onPeerRestart((_group, actors) => {
          if (actors.includes(ACTOR.audit)) void executor.resendEnd();
        });
        return executor;
      },
      subscribe: [],
      supervision: { strategy: "stop" },
      // It handles one signal per turn of the bus (its handler awaits the risk manager's reply)
      // while the relay passes up to 256 swaps, about 25 signals, per turn: signals come in
      // bursts. A mailbox deep enough for a run's bursts keeps the market-data path from
      // stalling behind it (with the default 1,024, backpressure slows every stage: 1.6x the
      // hand-wired floor instead of 1.2x in bench/trading_bench.ts).
      mailbox: { capacity: 65_536 },
      // Its figures survive in the audit trail's ledger.
      stateful: false,
    },
    [ACTOR.risk]: {
      create: () => new RiskManager(),
      subscribe: [OrderExecution],
      supervision: { strategy: "stop" },
    },
    [ACTOR.audit]: {
      create: (env) => new AuditTrail(env.shared.audit!, () => env.done()),
      subscribe: [OrderExecution],
      supervision: { strategy: "stop" },
    },
    [ACTOR.metrics]: {
      create: () => new MetricsCollector(),
      subscribe: [V2Swap, OrderExecution],
      supervision: { strategy: "stop" },
      stateful: false,
    },
    [ACTOR.collector]: {
      create: (env) => new PolygonCollector(env.shared.feed!, { rate: env.params.rate }),
      subscribe: [],
      supervision: { strategy: "stop" },
    },
  },
  // The market-data path, by direct calls between the actors that share a process: the
  // relay's swaps reach the strategy and the metrics collector. The collector and the relay
  // are route targets too (of its own nudge, and of the end marker, which is sent to it by
  // name), which makes them MonolithBus members: the collector's sends to the relay are
  // direct calls as well. The executor's side likewise: its risk checks are answered, and its
  // executions booked and audited, by direct calls when those actors are idle (the executor
  // itself stays on its mailbox: it awaits each reply).
  routes: [
    { type: V2Swap, sync: [ACTOR.strategy, ACTOR.metrics] },
    { type: StreamEnd, sync: [ACTOR.relay] },
    { type: Produce, sync: [ACTOR.collector] },
    { type: RiskCheck, sync: [ACTOR.risk] },
    { type: OrderExecution, sync: [ACTOR.risk, ACTOR.audit, ACTOR.metrics] },
  ],
  report: {
    part: (actors, env): TradingPart => {
      const collector = actors[ACTOR.collector];
      const strategy = actors[ACTOR.strategy];
      const executor = actors[ACTOR.executor];
      const risk = actors[ACTOR.risk];
      const audit = actors[ACTOR.audit];
      return {
        ...(collector === undefined
          ? {}
          : { swaps: collector.sent, startedAtMs: collector.startedAtMs }),
        ...(strategy === undefined ? {} : { signals: strategy.detector.signals }),
        ...(executor === undefined ? {} : {
          fills: executor.fills,
          refused: executor.refused,
          pnlMicro: executor.pnlMicro,
          executorGroup: env.group,
        }),
        ...(risk === undefined ? {} : {
          halted: risk.book.halted,
          exposureMicro: risk.book.exposureMicro,
          approvedUnbooked: risk.book.approvedUnbooked(),
        }),
        ...(audit === undefined ? {} : {
          auditLines: audit.lines,
          endedAtMs: audit.endedAtMs,
          ledger: audit.ledger.summary(),
          auditFile: env.params.audit,
        }),
      };
    },
    merge: mergeTrading,
    lines: (total) => tradingLines(total),
  },
});
