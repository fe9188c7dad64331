/**
 * The trading example end to end in one process: its fixed routes compiled
 * to direct calls (the relay's swaps reach the strategy and the metrics
 * collector through a MonolithBus) against the same app with every message
 * through the MessageBus (`routing: "bus"`, the baseline). Each iteration is
 * one whole run of 20,000 swaps, audit file included.
 *
 * Run: deno bench --allow-read --allow-write bench/app_bench.ts
 *
 * @module
 */
import { parseTopology, runProcess } from "../mod.ts";
import { tradingApp } from "../examples/trading/app.ts";

const SWAPS = 20_000;
const dir = await Deno.makeTempDir({ prefix: "mycelium_app_bench_" });
const topology = parseTopology(
  `topology:\n  mode: monolith\n  actors: { ${
    tradingApp.actorNames.map((a) => `${a}:`).join(", ")
  } }\n`,
);

async function run(routing: "fixed" | "bus"): Promise<void> {
  const report = await runProcess(tradingApp, {
    topology,
    routing,
    params: { swaps: SWAPS, audit: `${dir}/audit-${routing}.log` },
  });
  if (!report.completed) throw new Error(`the ${routing} run did not complete`);
}

Deno.bench("trading app, 20,000 swaps, every message through the MessageBus", {
  group: "trading app",
  baseline: true,
  n: 20,
  warmup: 3,
}, async () => await run("bus"));

Deno.bench("trading app, 20,000 swaps, fixed routes as direct calls", {
  group: "trading app",
  n: 20,
  warmup: 3,
}, async () => await run("fixed"));

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
