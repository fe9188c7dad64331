/**
 * The trading app split across real processes (each group a child running
 * `runProcess` with its `group`) gives what the monolith gives: the same
 * audit file, byte for byte, and the same deterministic report once the
 * groups' reports are merged.
 *
 * @module
 */
import assert from "node:assert/strict";
import { deterministicPart } from "../examples/trading/_summary.ts";
import { runTrading } from "../examples/trading/_run.ts";
import { mergeRun } from "../../src/cli/run_command.ts";
import {
  type ProcessReport,
  processReportFromJson,
  processReportToJson,
  type RunReport,
} from "../../src/runtime/run_report.ts";
import { RuntimeError } from "../../src/runtime/runtime_error.ts";
import { parseTopology } from "../../src/topology/parse_topology.ts";
import { tradingApp } from "../../examples/trading/app.ts";
import type { TradingPart, TradingSummary } from "../../examples/trading/report.ts";
import { distributedTopology, freePorts, hybridTopology } from "./_split_topologies.ts";

const GROUP = new URL("./_group.ts", import.meta.url).pathname;

const HYBRID = (dir: string, basePort: number) =>
  hybridTopology({ basePort, socketDir: `${dir}/sockets` });
const DISTRIBUTED = (_dir: string, basePort: number) => distributedTopology({ basePort });

/** Runs every group of the topology as its own process; returns their reports and the audit file. */
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
  const topology = parseTopology(text, { knownActors: tradingApp.actorNames });
  const audit = `${dir}/audit.log`;
  const children = [...topology.groups.keys()].map((group) =>
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
  const parts: ProcessReport<TradingPart>[] = outputs.map((o) => {
    const err = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 0, err);
    return processReportFromJson(
      new TextDecoder().decode(o.stdout).trim(),
    ) as ProcessReport<TradingPart>;
  });
  const merged = mergeRun(tradingApp, topology.mode, parts) as RunReport<TradingSummary>;
  return { parts, merged, audit: await Deno.readTextFile(audit) };
}

Deno.test("the trading app split across three processes (unix and tcp) matches the monolith exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-split-" });
  try {
    const swaps = 20_000;
    const seed = 5;
    const monolith = await runTrading({ swaps, seed });
    const split = await runSplit(dir, swaps, seed, HYBRID, 2);
    assert.ok(monolith.total.app.signals > 20, "the market should produce signals");
    assert.equal(split.audit, monolith.audit);
    assert.deepEqual(deterministicPart(split.merged), deterministicPart(monolith.total));
    assert.deepEqual(split.merged.groups.toSorted(), ["compliance", "execution", "hot_path"]);
    assert.equal(split.merged.restart, undefined);
    for (const part of split.parts) {
      assert.equal(part.completed, true, part.group);
      for (const link of part.links) {
        assert.equal(
          link.dropped + link.undelivered + link.refused,
          0,
          `${part.group}→${link.peer}: ${JSON.stringify(link)}`,
        );
      }
    }
    // Each actor reports from the group the topology put it in.
    const groupOf = new Map(split.merged.actors.map((a) => [a.name, a.group]));
    assert.equal(groupOf.get("order_executor"), "execution");
    assert.equal(groupOf.get("audit_trail"), "compliance");
    assert.equal(groupOf.get("market_relay"), "hot_path");
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

Deno.test("the trading app distributed over seven processes (one per actor, tcp) matches the monolith", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-split-" });
  try {
    const monolith = await runTrading({ swaps: 2_000, seed: 9 });
    const split = await runSplit(dir, 2_000, 9, DISTRIBUTED, 7);
    assert.equal(split.parts.length, 7);
    assert.equal(split.audit, monolith.audit);
    assert.deepEqual(deterministicPart(split.merged), deterministicPart(monolith.total));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process reports survive their JSON line, bigints included; a bad line is a typed error", () => {
  const part: ProcessReport<TradingPart> = {
    group: "g",
    completed: true,
    actors: [],
    shutdown: { drained: true, discarded: 0, abandonedRequests: 0 },
    links: [],
    held: 0,
    elapsedMs: 1,
    app: { pnlMicro: -12n, approvedUnbooked: [3n, 2n ** 70n], executorGroup: "execution" },
  };
  assert.deepEqual(processReportFromJson(processReportToJson(part)), part);
  for (const bad of ["{not json", "{}", "null", '{"group":"g"}']) {
    assert.throws(
      () => processReportFromJson(bad),
      (e: unknown) => e instanceof RuntimeError && e.code === "RUNTIME_RUN_FAILED",
      bad,
    );
  }
});
