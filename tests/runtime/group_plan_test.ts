/**
 * groupPlan: which actors a group hosts, what it listens on, whom it dials.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseTopology } from "../../src/topology/parse_topology.ts";
import { groupPlan, transportOf } from "../../src/runtime/group_plan.ts";
import { TopologyResolver } from "../../src/topology/topology_resolver.ts";
import { RuntimeError } from "../../src/runtime/runtime_error.ts";

const HYBRID = `
topology:
  mode: hybrid
  socket_dir: /run/app
  process_groups:
    hot_path: { actors: [collector, relay, strategy], transport: channel }
    execution: { actors: [executor], transport: unix_socket }
    compliance: { actors: [audit, risk], transport: tcp, endpoint: "127.0.0.1:7911" }
  routes:
    - { from: collector, to: relay }
    - { from: strategy, to: executor }
    - { from: executor, to: audit }
    - { from: strategy, to: audit }
`;

Deno.test("groupPlan: every pair of groups gets exactly one link; the first name dials, unless the other asked for tcp", () => {
  const t = parseTopology(HYBRID);
  const plans = [...t.groups.keys()].map((g) => groupPlan(t, g));
  const dials = plans.flatMap((p) => p.dial.map((d) => `${p.group}->${d.group}`)).sort();
  assert.deepEqual(dials, ["execution->compliance", "execution->hot_path", "hot_path->compliance"]);
  for (const p of plans) assert.equal(p.peers.length, 2);
});

Deno.test("groupPlan: same host dials the unix socket, tcp groups listen on their endpoint", () => {
  const t = parseTopology(HYBRID);
  const hot = groupPlan(t, "hot_path");
  assert.deepEqual(hot.actors, ["collector", "relay", "strategy"]);
  assert.deepEqual(hot.dial.map((d) => [d.group, d.address]), [[
    "compliance",
    { kind: "tcp", host: "127.0.0.1", port: 7911 },
  ]]);
  assert.deepEqual(hot.listen, [{ kind: "unix", path: "/run/app/hot_path.sock" }]);
  const execution = groupPlan(t, "execution");
  assert.deepEqual(execution.dial.map((d) => [d.group, d.address]), [
    ["hot_path", { kind: "unix", path: "/run/app/hot_path.sock" }],
    ["compliance", { kind: "tcp", host: "127.0.0.1", port: 7911 }],
  ]);
  // Nobody sorting after execution is linked to it over unix, so it listens on nothing.
  assert.deepEqual(execution.listen, []);
  // compliance asked for tcp: every other group dials its endpoint; it dials nobody.
  const compliance = groupPlan(t, "compliance");
  assert.deepEqual(compliance.dial, []);
  assert.deepEqual(compliance.listen, [{ kind: "tcp", host: "127.0.0.1", port: 7911 }]);
  assert.equal(transportOf(hot.listen[0]!).address, "/run/app/hot_path.sock");
});

Deno.test("groupPlan: a tcp pin on a group whose name sorts first is the transport its links use, as the resolver shows", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  socket_dir: /run/app
  process_groups:
    audit: { actors: [auditor], transport: tcp, endpoint: "127.0.0.1:7921" }
    trading: { actors: [trader, hedger] }
    zeta: { actors: [watcher] }
  routes:
    - { from: trader, to: auditor }
    - { from: auditor, to: hedger }
    - { from: watcher, to: trader }
`);
  const audit = groupPlan(t, "audit");
  assert.deepEqual(audit.dial, [], "the pinned group is dialed, whatever its name");
  assert.deepEqual(audit.listen, [{ kind: "tcp", host: "127.0.0.1", port: 7921 }]);
  const trading = groupPlan(t, "trading");
  assert.deepEqual(trading.dial.map((d) => [d.group, d.address.kind, d.reason]), [
    ["audit", "tcp", "group audit asks for tcp"],
    ["zeta", "unix", "other group, same host local"],
  ]);
  // Whatever dials, each link uses the transport of every route between its groups, both ways.
  const resolver = new TopologyResolver(t);
  for (const group of t.groups.keys()) {
    for (const d of groupPlan(t, group).dial) {
      for (const r of resolver.routeTable()) {
        const pair = [r.fromGroup, r.toGroup].sort().join();
        if (pair !== [group, d.group].sort().join()) continue;
        assert.equal(d.address.kind, r.transport, `${r.from} → ${r.to} over ${group}->${d.group}`);
      }
    }
  }
});

Deno.test("groupPlan: a group on another host is reached over tcp; a socket dir can be passed", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  hosts: { local: "127.0.0.1", other: "127.0.0.1" }
  base_port: 7912
  process_groups:
    alpha: { actors: [a1], transport: unix_socket }
    beta: { actors: [b1], host: other }
`);
  const alpha = groupPlan(t, "alpha", { socketDir: "/tmp/x" });
  assert.deepEqual(alpha.dial.map((d) => d.address), [{
    kind: "tcp",
    host: "127.0.0.1",
    port: 7912,
  }]);
  const beta = groupPlan(t, "beta", { socketDir: "/tmp/x" });
  assert.deepEqual(beta.listen, [{ kind: "tcp", host: "127.0.0.1", port: 7912 }]);
  assert.equal(transportOf(beta.listen[0]!, { bindHostname: "0.0.0.0" }).address, "0.0.0.0:7912");
});

Deno.test("groupPlan: with links 'routes' only groups joined by a route are linked", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  socket_dir: /run/app
  process_groups:
    a: { actors: [a1], transport: unix_socket }
    b: { actors: [b1], transport: unix_socket }
    c: { actors: [c1], transport: unix_socket }
  routes:
    - { from: a1, to: b1 }
`);
  assert.deepEqual(groupPlan(t, "a", { links: "routes" }).peers, ["b"]);
  assert.deepEqual(groupPlan(t, "c", { links: "routes" }).peers, []);
  assert.deepEqual(groupPlan(t, "c").peers, ["a", "b"]);
});

Deno.test("groupPlan: an unknown group or a relative socket without a directory is refused", () => {
  const t = parseTopology(HYBRID.replace("  socket_dir: /run/app\n", ""));
  assert.throws(
    () => groupPlan(t, "nope"),
    (e: unknown) =>
      e instanceof RuntimeError && e.code === "RUNTIME_PLAN" && /hot_path/.test(e.message),
  );
  assert.throws(
    () => groupPlan(t, "execution"),
    (e: unknown) =>
      e instanceof RuntimeError && e.code === "RUNTIME_PLAN" && /socket_dir/.test(e.message),
  );
});
