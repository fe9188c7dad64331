/**
 * The reference pipeline split across real processes gives what the monolith
 * gives: the same audit file and the same deterministic summary.
 *
 * @module
 */
import assert from "node:assert/strict";
import { deterministicPart } from "../pipeline/_summary.ts";
import { runPipeline } from "../../src/pipeline/pipeline.ts";
import {
  type GroupSummary,
  groupSummaryFromJson,
  groupSummaryToJson,
  mergeGroupSummaries,
} from "../../src/runtime/run_group.ts";
import { RuntimeError } from "../../src/runtime/runtime_error.ts";
import { parseTopology } from "../../src/topology/parse_topology.ts";
import { distributedTopology, freePorts, hybridTopology } from "./_split_topologies.ts";

const GROUP = new URL("./_group.ts", import.meta.url).pathname;

const HYBRID = (dir: string, basePort: number) =>
  hybridTopology({ basePort, socketDir: `${dir}/sockets` });
const DISTRIBUTED = (_dir: string, basePort: number) => distributedTopology({ basePort });

async function runSplit(
  dir: string,
  swaps: number,
  seed: number,
  yaml: (dir: string, base: number) => string,
  ports: number,
) {
  const base = freePorts(ports);
  const file = `${dir}/topology.yaml`;
  const text = yaml(dir, base);
  await Deno.writeTextFile(file, text);
  const groups = parseTopology(text).groups.keys();
  const audit = `${dir}/audit.log`;
  const children = [...groups].map((group) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env=LOG_TOKENS,LOG_STREAM,MYCELIUM_DEBUG",
        GROUP,
        file,
        group,
        audit,
        String(swaps),
        String(seed),
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output()
  );
  const outputs = await Promise.all(children);
  const parts: GroupSummary[] = outputs.map((o) => {
    const err = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, err);
    return groupSummaryFromJson(new TextDecoder().decode(o.stdout).trim());
  });
  return { parts, audit: await Deno.readTextFile(audit) };
}

Deno.test("the pipeline split across three processes (unix and tcp) matches the monolith exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-split-" });
  try {
    const swaps = 20_000;
    const seed = 5;
    const lines: string[] = [];
    const monolith = await runPipeline({
      audit: { write: (l) => void lines.push(l) },
      swaps,
      seed,
    });
    const split = await runSplit(dir, swaps, seed, HYBRID, 2);
    const merged = mergeGroupSummaries(split.parts);
    assert.ok(monolith.signals > 20, "the market should produce signals");
    assert.equal(split.audit, lines.join(""));
    assert.deepEqual(deterministicPart(merged), deterministicPart(monolith));
    for (const part of split.parts) {
      assert.equal(part.completed, true, part.group);
      for (const link of part.links) {
        assert.equal(
          link.dropped + link.undelivered + link.refused,
          0,
          `${part.group}→${link.peer}`,
        );
      }
    }
    const compliance = split.parts.find((p) => p.group === "compliance")!;
    assert.ok(compliance.links.every((l) => !l.address.startsWith("/")), "compliance is on tcp");
    const execution = split.parts.find((p) => p.group === "execution")!;
    assert.ok(
      execution.links.some((l) => l.peer === "hot_path" && l.address.startsWith("/")),
      "execution reaches hot_path over a unix socket",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the pipeline distributed over seven processes (one per actor, tcp) matches the monolith", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-split-" });
  try {
    const lines: string[] = [];
    const monolith = await runPipeline({
      audit: { write: (l) => void lines.push(l) },
      swaps: 2_000,
      seed: 9,
    });
    const split = await runSplit(dir, 2_000, 9, DISTRIBUTED, 7);
    assert.equal(split.parts.length, 7);
    assert.equal(split.audit, lines.join(""));
    assert.deepEqual(
      deterministicPart(mergeGroupSummaries(split.parts)),
      deterministicPart(monolith),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group summaries survive their JSON line; a bad line is a typed error", () => {
  const part: GroupSummary = {
    group: "g",
    pnlMicro: -12n,
    completed: true,
    actors: [],
    shutdown: { drained: true, discarded: 0, abandonedRequests: 0 },
    links: [],
    elapsedMs: 1,
  };
  assert.deepEqual(groupSummaryFromJson(groupSummaryToJson(part)), part);
  assert.throws(
    () => groupSummaryFromJson("{not json"),
    (e: unknown) => e instanceof RuntimeError && e.code === "RUNTIME_RUN_FAILED",
  );
  assert.throws(
    () => mergeGroupSummaries([part]),
    (e: unknown) => e instanceof RuntimeError && /swaps/.test(e.message),
  );
});
