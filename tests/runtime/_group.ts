/**
 * One process group of the reference pipeline, for the split-run test.
 *
 * Usage: `_group.ts <topology.yaml> <group> <audit file> <swaps> <seed>`.
 * Writes the audit lines it got (if it hosts the audit trail) to the audit
 * file and prints its summary as one JSON line.
 *
 * @module
 */
import { sinkLogger } from "../../src/logger.ts";
import { loadTopology } from "../../src/topology/load_topology.ts";
import { PIPELINE_ACTORS } from "../../src/pipeline/actors.ts";
import { groupSummaryToJson, runGroup } from "../../src/runtime/run_group.ts";

const [file, group, auditPath, swaps, seed] = Deno.args;
const topology = await loadTopology(file!, { knownActors: PIPELINE_ACTORS });
const lines: string[] = [];
const debug = Deno.env.get("MYCELIUM_DEBUG") !== undefined;
const encoder = new TextEncoder();
const summary = await runGroup({
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
  // A stuck run ends (completed: false) instead of hanging the test.
  signal: AbortSignal.timeout(60_000),
  audit: { write: (line) => void lines.push(line) },
  swaps: Number(swaps),
  seed: Number(seed),
});
if (lines.length > 0) await Deno.writeTextFile(auditPath!, lines.join(""));
Deno.stdout.writeSync(new TextEncoder().encode(groupSummaryToJson(summary) + "\n"));
Deno.exit(0);
