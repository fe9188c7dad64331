/**
 * One process group of the reference pipeline, for the split-run test.
 *
 * Usage: `_group.ts <topology.yaml> <group> <audit file> <swaps> <seed>`.
 * Writes the audit lines it got (if it hosts the audit trail) to the audit
 * file and prints its summary as one JSON line.
 *
 * @module
 */
import { loadTopology } from "../../src/topology/load_topology.ts";
import { PIPELINE_ACTORS } from "../../src/pipeline/actors.ts";
import { groupSummaryToJson, runGroup } from "../../src/runtime/run_group.ts";

const [file, group, auditPath, swaps, seed] = Deno.args;
const topology = await loadTopology(file!, { knownActors: PIPELINE_ACTORS });
const lines: string[] = [];
const summary = await runGroup({
  topology,
  group: group!,
  audit: { write: (line) => void lines.push(line) },
  swaps: Number(swaps),
  seed: Number(seed),
});
if (lines.length > 0) await Deno.writeTextFile(auditPath!, lines.join(""));
Deno.stdout.writeSync(new TextEncoder().encode(groupSummaryToJson(summary) + "\n"));
