/**
 * Runs the trading app in this process (a monolith), as `mycelium run
 * config/dev.yaml` does, for the tests that compare runs: the process's
 * report, the run's total and the audit file's text.
 *
 * @module
 */
import type { Actor } from "../../../src/actor/actor.ts";
import type { ActorSpec, AnyApp, AppEnv } from "../../../src/app/app.ts";
import { mergeRun } from "../../../src/cli/run_command.ts";
import { runProcess } from "../../../src/runtime/run_process.ts";
import type { ProcessReport, RunReport } from "../../../src/runtime/run_report.ts";
import { parseTopology } from "../../../src/topology/parse_topology.ts";
import type { Topology } from "../../../src/topology/topology.ts";
import { tradingApp, type TradingShared } from "../../../examples/trading/app.ts";
import { writeSwapFile } from "../../../examples/trading/market.ts";
import type { V2Swap } from "../../../examples/trading/messages.ts";
import type { TradingPart, TradingSummary } from "../../../examples/trading/report.ts";

/** Every actor of the trading app in one process. */
export function monolithTopology(): Topology {
  return parseTopology(
    `topology:\n  mode: monolith\n  actors:\n${
      tradingApp.actorNames.map((a) => `    ${a}: { transport: channel }\n`).join("")
    }`,
    { knownActors: tradingApp.actorNames },
  );
}

/** An actor name of the trading app. */
export type TradingActor = (typeof tradingApp.actorNames)[number];

/** What an actor factory of the trading app sees. */
export type TradingEnv = AppEnv<typeof tradingApp.params, TradingShared>;

/** Makes an actor in place of the app's factory; `make` calls the app's own. */
export type ActorOverride = (env: TradingEnv, make: () => Actor) => Actor;

/**
 * The trading app with some actors made by `overrides` (spawn settings,
 * routes and report unchanged): to watch the instances a run made, or to
 * act on what they do.
 */
export function tradingAppWith(overrides: Partial<Record<TradingActor, ActorOverride>>): AnyApp {
  const actors: Record<string, ActorSpec<typeof tradingApp.params, TradingShared>> = {
    ...tradingApp.actors,
  };
  for (const [name, override] of Object.entries(overrides)) {
    const spec = tradingApp.actors[name as TradingActor];
    actors[name] = {
      ...spec,
      create: (env: TradingEnv) => override(env, () => spec.create(env)),
    };
  }
  return { ...tradingApp, actors };
}

/** Options of {@linkcode runTrading}. */
export interface TradingRunOptions {
  /** Swaps to generate. Default: the app's (20,000). */
  swaps?: number;
  /** Seed of the market. Default: the app's (1). */
  seed?: number;
  /** Swaps to replay (written to a file of frames, passed as the `replay` param). */
  replay?: readonly V2Swap[];
  /** Round-trip in-process messages through the codec. Default: false. */
  faithful?: boolean;
  /** `bus`: every message through the MessageBus. Default: `fixed`. */
  routing?: "fixed" | "bus";
  /** Stops the run early. */
  signal?: AbortSignal;
  /** The app to run: the trading app or a {@linkcode tradingAppWith} of it. Default: `tradingApp`. */
  app?: AnyApp;
}

/** What a monolith run of the trading app did. */
export interface TradingRun {
  /** The process's report; `.app` is the trading part. */
  readonly part: ProcessReport<TradingPart>;
  /** The run's report (the part merged as the CLI does); `.app` is the trading total. */
  readonly total: RunReport<TradingSummary>;
  /** The audit file's text. */
  readonly audit: string;
}

/** Runs the trading app as a monolith, its audit file (and replayed swaps) in a temp dir. */
export async function runTrading(options: TradingRunOptions = {}): Promise<TradingRun> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_trading_" });
  try {
    const audit = `${dir}/audit.log`;
    const replay = options.replay === undefined ? undefined : `${dir}/swaps.bin`;
    if (replay !== undefined) await Deno.writeFile(replay, writeSwapFile(options.replay!));
    const app = options.app ?? tradingApp;
    const part = await runProcess(app, {
      topology: monolithTopology(),
      params: {
        audit,
        ...(options.swaps === undefined ? {} : { swaps: options.swaps }),
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(replay === undefined ? {} : { replay }),
      },
      faithful: options.faithful ?? false,
      routing: options.routing ?? "fixed",
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }) as ProcessReport<TradingPart>;
    return {
      part,
      total: mergeRun(app, "monolith", [part]) as RunReport<TradingSummary>,
      audit: await Deno.readTextFile(audit),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
