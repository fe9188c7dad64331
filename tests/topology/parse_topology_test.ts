/**
 * The seeds' three shapes load as written and become one model: actors →
 * group → host, with listening addresses.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_BASE_PORT,
  LOCAL_HOST,
  MONOLITH_GROUP,
  parseTopology,
} from "../../src/topology/mod.ts";

const SEED_MONOLITH = `
topology:
  mode: monolith
  actors:
    polygon_collector: { transport: channel }
    market_relay: { transport: channel }
    arbitrage_strategy: { transport: channel }
    order_executor: { transport: channel }

performance:
  expected_latency: "200ns"
  expected_throughput: "20M msg/s"
`;

const SEED_HYBRID = `
topology:
  mode: hybrid

  process_groups:
    hot_path:
      actors: [polygon_collector, market_relay, arbitrage_strategy]
      transport: channel
      deployment: same_process

    execution:
      actors: [order_executor]
      transport: unix_socket
      deployment: isolated_process
      reason: "kept apart"

    compliance:
      actors: [audit_trail, risk_manager]
      transport: tcp
      deployment: separate_machine
      reason: "kept further apart"

performance:
  hot_path_latency: "200ns"
  execution_latency: "2μs"
  compliance_latency: "50μs"
`;

const SEED_DISTRIBUTED = `
topology:
  mode: distributed

  actors:
    polygon_collector:
      transport: tcp
      endpoint: "collector.internal:8001"

    market_relay:
      transport: tcp
      endpoint: "relay.internal:8002"

    arbitrage_strategy:
      transport: tcp
      endpoint: "strategy.internal:8003"

    order_executor:
      transport: tcp
      endpoint: "executor.internal:8004"
`;

Deno.test("the seeds' monolith shape puts every actor in one group on the local host", () => {
  const t = parseTopology(SEED_MONOLITH, { file: "dev.yaml" });
  assert.equal(t.mode, "monolith");
  assert.equal(t.file, "dev.yaml");
  assert.deepEqual(t.hosts, [LOCAL_HOST]);
  assert.deepEqual([...t.groups.keys()], [MONOLITH_GROUP]);
  const main = t.groups.get(MONOLITH_GROUP);
  assert.deepEqual(main?.actors, [
    "polygon_collector",
    "market_relay",
    "arbitrage_strategy",
    "order_executor",
  ]);
  assert.equal(main?.unix, undefined, "a lone group listens on nothing");
  assert.equal(main?.tcp, undefined);
  assert.equal(t.performance.latency?.value, 200);
  assert.equal(t.performance.latency?.key, "performance.expected_latency");
  assert.equal(t.performance.latency?.at.line, 11);
  assert.equal(t.performance.throughput?.value, 20_000_000);
  assert.equal(t.actors.get("order_executor")?.at.line, 8);
});

Deno.test("the seeds' hybrid shape: groups, hosts from deployment, unix_socket read as unix", () => {
  const t = parseTopology(SEED_HYBRID);
  assert.equal(t.mode, "hybrid");
  assert.deepEqual(t.hosts, [LOCAL_HOST, "compliance"]);
  const [hot, exec, compliance] = ["hot_path", "execution", "compliance"].map((n) =>
    t.groups.get(n)
  );
  assert.equal(hot?.host, LOCAL_HOST);
  assert.equal(hot?.deployment, "same_process");
  assert.equal(hot?.transport, "channel");
  assert.equal(exec?.transport, "unix");
  assert.equal(exec?.reason, "kept apart");
  assert.equal(
    compliance?.host,
    "compliance",
    "separate_machine without host: is named after the group",
  );
  assert.equal(compliance?.deployment, "separate_machine");
  assert.equal(t.actors.get("risk_manager")?.group, "compliance");
  assert.equal(t.actors.get("risk_manager")?.host, "compliance");
  assert.equal(t.performance.latencyFor.get("execution")?.value, 2_000);
  assert.equal(t.performance.latencyFor.get("compliance")?.value, 50_000);
  // It loads, but the compliance machine would dial 127.0.0.1 to reach the groups here.
  assert.equal(t.warnings.length, 1);
  assert.deepEqual([t.warnings[0]?.line, t.warnings[0]?.path], [2, "topology"]);
  assert.match(
    t.warnings[0]?.problem ?? "",
    /group 'hot_path', group 'execution' are dialled at 127\.0\.0\.1, which compliance cannot reach/,
  );
  assert.match(t.warnings[0]?.fix ?? "", /hosts: \{ local: /);
});

Deno.test("no warning once hosts: names the local machine's address, or when everything is local", () => {
  const named = parseTopology(
    SEED_HYBRID.replace("mode: hybrid", 'mode: hybrid\n  hosts: { local: "10.0.0.5" }'),
  );
  assert.deepEqual(named.warnings, []);
  assert.deepEqual(named.groups.get("execution")?.tcp, {
    kind: "tcp",
    host: "10.0.0.5",
    port: 7401,
  });
  assert.deepEqual(parseTopology(SEED_MONOLITH).warnings, []);
  assert.deepEqual(parseTopology(SEED_DISTRIBUTED).warnings, []);
});

Deno.test("the seeds' distributed shape: one group per actor, on the endpoint's host, at the endpoint", () => {
  const t = parseTopology(SEED_DISTRIBUTED);
  assert.equal(t.mode, "distributed");
  assert.equal(t.groups.size, 4);
  const relay = t.groups.get("market_relay");
  assert.deepEqual(relay?.actors, ["market_relay"]);
  assert.equal(relay?.host, "relay.internal");
  assert.equal(relay?.deployment, "separate_machine");
  assert.deepEqual(relay?.tcp, { kind: "tcp", host: "relay.internal", port: 8002 });
  assert.equal(relay?.transport, "tcp");
  assert.equal(t.hosts.length, 4);
});

Deno.test("groups reached by socket get <group>.sock and TCP ports from base_port, skipping written ones", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  base_port: 9000
  process_groups:
    a: { actors: [x] }
    b: { actors: [y], endpoint: "localhost:9001" }
    c: { actors: [z], transport: tcp }
    d: { actors: [w], socket: /tmp/d.sock }
`);
  assert.deepEqual(t.groups.get("a")?.unix, { kind: "unix", path: "a.sock" });
  assert.deepEqual(t.groups.get("d")?.unix, { kind: "unix", path: "/tmp/d.sock" });
  // Only c is reached over TCP by default (it asks for it); b wrote an endpoint.
  assert.equal(t.groups.get("a")?.tcp, undefined);
  assert.deepEqual(t.groups.get("b")?.tcp, { kind: "tcp", host: "localhost", port: 9001 });
  assert.equal(t.groups.get("b")?.host, LOCAL_HOST, "localhost is the local host");
  assert.deepEqual(t.groups.get("c")?.tcp, { kind: "tcp", host: "127.0.0.1", port: 9000 });
});

Deno.test("default ports start at DEFAULT_BASE_PORT per host, and hosts: gives the address to dial", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  hosts:
    local: "trading-1.internal"
  process_groups:
    a: { actors: [x] }
    b: { actors: [y], deployment: separate_machine, host: "box-2" }
`);
  assert.deepEqual(t.groups.get("a")?.tcp, {
    kind: "tcp",
    host: "trading-1.internal",
    port: DEFAULT_BASE_PORT,
  });
  assert.deepEqual(t.groups.get("b")?.tcp, { kind: "tcp", host: "box-2", port: DEFAULT_BASE_PORT });
  assert.equal(t.groups.get("b")?.unix, undefined, "nothing on its host reaches it by socket");
});

Deno.test("routes are kept with their pins and budgets; unix_socket in a route reads as unix", () => {
  const t = parseTopology(`
topology:
  mode: hybrid
  process_groups:
    a: { actors: [x] }
    b: { actors: [y] }
  routes:
    - { from: x, to: y, transport: unix_socket, latency: "30us", throughput: "2M msg/s" }
    - from: y
      to: x
`);
  assert.equal(t.routes.length, 2);
  assert.equal(t.routes[0]?.transport, "unix");
  assert.equal(t.routes[0]?.latency?.value, 30_000);
  assert.equal(t.routes[0]?.latency?.key, "topology.routes[0].latency");
  assert.equal(t.routes[0]?.throughput?.value, 2_000_000);
  assert.equal(t.routes[1]?.transport, undefined);
  assert.equal(t.routes[1]?.at.line, 9);
});

Deno.test("a monolith actor written with no value at all is placed on channel", () => {
  const t = parseTopology("topology:\n  mode: monolith\n  actors:\n    a:\n    b: {}\n");
  assert.deepEqual(t.groups.get(MONOLITH_GROUP)?.actors, ["a", "b"]);
});

Deno.test("knownActors accepts a topology placing exactly the application's actors", () => {
  const t = parseTopology(SEED_HYBRID, {
    knownActors: [
      "polygon_collector",
      "market_relay",
      "arbitrage_strategy",
      "order_executor",
      "audit_trail",
      "risk_manager",
    ],
  });
  assert.equal(t.actors.size, 6);
});
