/**
 * The link two groups really use is the one the topology table shows: two
 * BusNodes started from their group plans, over real sockets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { NULL_LOGGER } from "../../src/logger.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { groupPlan, transportOf } from "../../src/runtime/group_plan.ts";
import { parseTopology } from "../../src/topology/parse_topology.ts";
import { TopologyResolver } from "../../src/topology/topology_resolver.ts";
import type { Topology } from "../../src/topology/topology.ts";
import { gate, Tick, tick } from "../bus/_messages.ts";
import { freePort } from "../_deno.ts";

/** Starts group `group` of `topology` as its plan says: its bus, its node. */
async function startGroup(topology: Topology, group: string, bus: MessageBus): Promise<BusNode> {
  const plan = groupPlan(topology, group);
  return await BusNode.start({
    bus,
    identity: group,
    registry: new Registry([Tick]),
    listen: plan.listen.map((a) => transportOf(a)),
    dial: plan.dial.map((d) => ({ identity: d.group, transport: transportOf(d.address) })),
    logger: NULL_LOGGER,
  });
}

Deno.test("a group pinned to tcp whose name sorts first is linked over tcp, as the topology shows, and messages cross it both ways", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-plan-" });
  try {
    const port = freePort();
    const topology = parseTopology(`
topology:
  mode: hybrid
  socket_dir: ${dir}
  process_groups:
    audit: { actors: [auditor], transport: tcp, endpoint: "127.0.0.1:${port}" }
    trading: { actors: [trader] }
`);
    const table = new TopologyResolver(topology).routeTable();
    assert.deepEqual(table.map((r) => `${r.from}->${r.to} ${r.transport}`), [
      "auditor->trader tcp",
      "trader->auditor tcp",
    ]);

    await using audit = new MessageBus();
    await using trading = new MessageBus();
    const atAuditor: number[] = [];
    const atTrader: number[] = [];
    const done = gate();
    audit.spawn("auditor", {
      handlers: [on(Tick, (m, ctx) => {
        atAuditor.push(m.seq);
        return ctx.send("trader", Tick, tick(m.seq * 10, "ack"));
      })],
    });
    trading.spawn("trader", {
      handlers: [on(Tick, (m) => {
        atTrader.push(m.seq);
        if (atTrader.length === 3) done.open();
      })],
    });
    await using auditNode = await startGroup(topology, "audit", audit);
    await using tradingNode = await startGroup(topology, "trading", trading);
    await tradingNode.ready(["auditor"], { timeoutMs: 10_000 });
    await auditNode.ready(["trader"], { timeoutMs: 10_000 });
    for (let i = 1; i <= 3; i++) await trading.send("auditor", Tick, tick(i, "order"));
    await done.promise;
    assert.deepEqual(atAuditor, [1, 2, 3]);
    assert.deepEqual(atTrader, [10, 20, 30]);

    // The socket each side actually uses: the audit group's tcp endpoint, no Unix socket.
    for (const [node, peer] of [[tradingNode, "audit"], [auditNode, "trading"]] as const) {
      const links = node.stats();
      assert.equal(links.length, 1);
      assert.equal(links[0]!.peer, peer);
      assert.equal(links[0]!.address, `127.0.0.1:${port}`, `${peer}'s link`);
      assert.equal(links[0]!.state, "open");
    }
    assert.equal(tradingNode.stats()[0]!.sent, 3);
    assert.equal(tradingNode.stats()[0]!.received, 3);
    await trading.close();
    await audit.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
