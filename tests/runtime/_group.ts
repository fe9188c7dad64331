/**
 * One process group of the trading app, for the split-run test: runs it
 * with `runProcess` and prints its report as one JSON line.
 *
 * Usage: `_group.ts <topology.yaml> <group> <audit file> <swaps> <seed>`.
 * The group hosting the audit trail writes the audit file.
 *
 * @module
 */
import { sinkLogger } from "../../src/logger.ts";
import { loadTopology } from "../../src/topology/load_topology.ts";
import { runProcess } from "../../src/runtime/run_process.ts";
import { processReportToJson } from "../../src/runtime/run_report.ts";
import { tradingApp } from "../../examples/trading/app.ts";

const [file, group, audit, swaps, seed] = Deno.args;
const topology = await loadTopology(file!, { knownActors: tradingApp.actorNames });
const debug = Deno.env.get("MYCELIUM_DEBUG") !== undefined;
const encoder = new TextEncoder();
const report = await runProcess(tradingApp, {
  ...(debug
    ? {
      logger: sinkLogger((r) =>
        Deno.stderr.writeSync(
          encoder.encode(
            `${performance.now().toFixed(0)} ${group} ${r.level} ${r.source}: ${r.message} ${
              JSON.stringify(r.fields ?? {}, (_k, v) => typeof v === "bigint" ? String(v) : v)
            }\n`,
          ),
        ), { level: "info" }),
    }
    : {}),
  topology,
  group: group!,
  params: { audit: audit!, swaps: Number(swaps), seed: Number(seed) },
  // A stuck run ends (completed: false) instead of hanging the test.
  signal: AbortSignal.timeout(60_000),
});
Deno.stdout.writeSync(encoder.encode(processReportToJson(report) + "\n"));
Deno.exit(0);
