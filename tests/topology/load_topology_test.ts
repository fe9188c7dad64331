import assert from "node:assert/strict";
import { loadTopology, TopologyError, TopologyResolver } from "../../src/topology/mod.ts";
import { tradingApp } from "../../examples/trading/app.ts";

const CONFIG = new URL("../../config/", import.meta.url);
/** The actors of the trading app, which the example configs place. */
const PIPELINE = tradingApp.actorNames;

for (
  const [file, mode, groups] of [
    ["dev.yaml", "monolith", 1],
    ["prod.yaml", "hybrid", 4],
    ["microservices.yaml", "distributed", 7],
  ] as const
) {
  Deno.test(`config/${file} loads as mode ${mode} placing every actor of the trading app`, async () => {
    const t = await loadTopology(new URL(file, CONFIG).pathname, { knownActors: PIPELINE });
    assert.equal(t.mode, mode);
    assert.equal(t.groups.size, groups);
    assert.deepEqual([...t.actors.keys()].sort(), [...PIPELINE].sort());
    // The three files declare the same flows, so their route tables line up row by row.
    const pairs = new TopologyResolver(t).routeTable().map((r) => `${r.from}->${r.to}`);
    assert.equal(pairs.length, 8);
    assert.ok(pairs.includes("arbitrage_strategy->order_executor"));
  });
}

Deno.test("config/prod.yaml runs the hot path on channel, execution on unix and compliance on tcp", async () => {
  const t = await loadTopology(new URL("prod.yaml", CONFIG).pathname);
  const r = new TopologyResolver(t);
  assert.equal(r.resolve("polygon_collector", "market_relay").transport, "channel");
  assert.equal(r.resolve("arbitrage_strategy", "order_executor").transport, "unix");
  assert.equal(r.resolve("order_executor", "audit_trail").transport, "tcp");
  assert.equal(r.resolve("audit_trail", "risk_manager").transport, "channel");
});

Deno.test("loadTopology: a missing file is TOPOLOGY_READ naming the file and the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadTopology(`${dir}/nope.yaml`), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.equal(e.code, "TOPOLOGY_READ");
      assert.equal(e.file, `${dir}/nope.yaml`);
      assert.ok(e.cause instanceof Deno.errors.NotFound);
      assert.match(e.message, /nope\.yaml: no such file; check the path/);
      return true;
    });
    await assert.rejects(loadTopology(dir), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.equal(e.code, "TOPOLOGY_READ");
      assert.match(e.fix, /name a \.yaml file/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTopology: errors in a file carry its path, line and column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      file,
      "topology:\n  mode: monolith\n  actors:\n    a: { transport: carrier_pigeon }\n",
    );
    await assert.rejects(loadTopology(file), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.equal(e.code, "TOPOLOGY_INVALID");
      assert.ok(
        e.message.startsWith(
          `${file}:4:21: topology.actors.a.transport: 'carrier_pigeon' is not a transport`,
        ),
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTopology: an aborted signal rejects with its reason", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(
    loadTopology(new URL("dev.yaml", CONFIG).pathname, { signal: controller.signal }),
    (e: unknown) => e === reason,
  );
});
