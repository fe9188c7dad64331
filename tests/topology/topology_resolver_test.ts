import assert from "node:assert/strict";
import {
  DEFAULT_TRANSPORT_COSTS,
  parseTopology,
  TopologyError,
  TopologyResolver,
} from "../../src/topology/mod.ts";

/** Two groups on this host, one group on another host. */
const THREE_GROUPS = `
topology:
  mode: hybrid
  process_groups:
    hot_path: { actors: [collector, relay, strategy], transport: channel }
    execution: { actors: [executor], transport: unix_socket }
    compliance: { actors: [audit, risk], transport: tcp, deployment: separate_machine }
`;

function resolver(yaml: string, options: ConstructorParameters<typeof TopologyResolver>[1] = {}) {
  return new TopologyResolver(parseTopology(yaml), options);
}

Deno.test("same group → channel, other group on the same host → unix, other host → tcp", () => {
  const r = resolver(THREE_GROUPS);
  const sameGroup = r.resolve("collector", "strategy");
  assert.equal(sameGroup.transport, "channel");
  assert.equal(sameGroup.address, undefined);
  assert.equal(sameGroup.reason, "same group hot_path");
  const sameHost = r.resolve("strategy", "executor");
  assert.equal(sameHost.transport, "unix");
  assert.deepEqual(sameHost.address, { kind: "unix", path: "execution.sock" });
  const otherHost = r.resolve("executor", "audit");
  assert.equal(otherHost.transport, "tcp");
  assert.deepEqual(otherHost.address, { kind: "tcp", host: "compliance", port: 7400 });
  assert.deepEqual(
    [otherHost.fromGroup, otherHost.toGroup, otherHost.fromHost, otherHost.toHost],
    ["execution", "compliance", "local", "compliance"],
  );
});

Deno.test("a unix group reached from another host is reached over tcp", () => {
  const r = resolver(THREE_GROUPS);
  const route = r.resolve("risk", "executor");
  assert.equal(route.transport, "tcp");
  assert.equal(route.address?.kind, "tcp");
});

Deno.test("a group pinned to tcp talks tcp with groups on its own host, both ways", () => {
  const r = resolver(`
topology:
  mode: hybrid
  process_groups:
    a: { actors: [x] }
    b: { actors: [y], transport: tcp }
`);
  assert.equal(r.resolve("x", "y").transport, "tcp");
  const back = r.resolve("y", "x");
  assert.equal(back.transport, "tcp", "one link carries both directions");
  assert.equal(back.reason, "group b asks for tcp");
  assert.equal(back.address, undefined, "a dials b's endpoint: it listens on no tcp port");
});

Deno.test("the pinned group sorting first still decides its links: it listens, the others dial", () => {
  const r = resolver(`
topology:
  mode: hybrid
  process_groups:
    audit: { actors: [auditor], transport: tcp, endpoint: "127.0.0.1:7911" }
    trading: { actors: [trader] }
`);
  for (const [from, to] of [["auditor", "trader"], ["trader", "auditor"]]) {
    assert.equal(r.resolve(from!, to!).transport, "tcp", `${from} → ${to}`);
  }
  const link = r.link("trading", "audit");
  assert.deepEqual(link, {
    dialer: "trading",
    listener: "audit",
    transport: "tcp",
    reason: "group audit asks for tcp",
    address: { kind: "tcp", host: "127.0.0.1", port: 7911 },
  });
  assert.deepEqual(r.link("audit", "trading"), link, "the same link from either side");
  assert.equal(r.topology.groups.get("trading")?.tcp, undefined, "trading needs no tcp port");
});

Deno.test("link: without pins the first name dials; unknown or equal groups are refused", () => {
  const r = resolver(THREE_GROUPS);
  const sameHost = r.link("hot_path", "execution");
  assert.deepEqual([sameHost.dialer, sameHost.listener, sameHost.transport], [
    "execution",
    "hot_path",
    "unix",
  ]);
  const otherHost = r.link("compliance", "execution");
  assert.deepEqual([otherHost.dialer, otherHost.transport], ["compliance", "tcp"]);
  assert.equal(otherHost.reason, "other host local");
  for (const [a, b] of [["hot_path", "nope"], ["execution", "execution"]] as const) {
    assert.throws(
      () => r.link(a, b),
      (e: unknown) => e instanceof TopologyError && e.code === "TOPOLOGY_UNKNOWN_ACTOR",
    );
  }
});

Deno.test("a transport pinned on a route wins over the rule when it can carry the route", () => {
  const r = resolver(`
topology:
  mode: hybrid
  process_groups:
    a: { actors: [x] }
    b: { actors: [y] }
  routes:
    - { from: x, to: y, transport: tcp }
`);
  const pinned = r.resolve("x", "y");
  assert.equal(pinned.transport, "tcp");
  assert.equal(pinned.reason, "pinned by the route");
  assert.equal(pinned.address?.kind, "tcp", "b listens on TCP because a route needs it");
  const back = r.resolve("y", "x");
  assert.equal(back.transport, "tcp", "the reverse route rides the same link");
  assert.equal(back.reason, "pinned by route x → y");
});

Deno.test("expected cost: a route's budget, then the actor's, then its group's, then expected_latency", () => {
  const r = resolver(`
topology:
  mode: hybrid
  process_groups:
    hot_path: { actors: [relay, strategy], transport: channel }
    execution: { actors: [executor, hedger], transport: unix }
  routes:
    - { from: strategy, to: executor, latency: "40us" }
performance:
  expected_latency: "1ms"
  hot_path_latency: "300ns"
  execution_latency: "20µs"
  hedger_latency: "15µs"
  expected_throughput: "1M msg/s"
  executor_throughput: "50k msg/s"
`);
  const own = r.resolve("strategy", "executor");
  assert.equal(own.expectedLatency, 40_000);
  assert.equal(own.latencySource, "topology.routes[0].latency");
  assert.equal(own.throughputBudget?.value, 50_000);
  const actor = r.resolve("relay", "hedger");
  assert.equal(actor.expectedLatency, 15_000);
  assert.equal(actor.latencySource, "performance.hedger_latency");
  assert.equal(actor.throughputBudget?.value, 1_000_000);
  const group = r.resolve("relay", "executor");
  assert.equal(group.expectedLatency, 20_000);
  assert.equal(group.latencySource, "performance.execution_latency");
  const inside = r.resolve("relay", "strategy");
  assert.equal(inside.expectedLatency, 300);
  assert.equal(inside.latencySource, "performance.hot_path_latency");
  // A group's budget covers routes arriving over its own transport: hot_path is a
  // channel group, so a unix route into it falls back to expected_latency.
  const intoHotPath = r.resolve("executor", "relay");
  assert.equal(intoHotPath.transport, "unix");
  assert.equal(intoHotPath.expectedLatency, 1_000_000);
  assert.equal(intoHotPath.latencySource, "performance.expected_latency");
});

Deno.test("without budgets the expected cost is the transport's default, which options can replace", () => {
  const plain = resolver(THREE_GROUPS);
  for (
    const [from, to, transport] of [
      ["collector", "relay", "channel"],
      ["strategy", "executor", "unix"],
      ["strategy", "audit", "tcp"],
    ] as const
  ) {
    const route = plain.resolve(from, to);
    assert.equal(route.transport, transport);
    assert.equal(route.expectedLatency, DEFAULT_TRANSPORT_COSTS[transport]);
    assert.equal(route.latencySource, `default ${transport} cost`);
  }
  const measured = resolver(THREE_GROUPS, { costs: { unix: 9_000 } });
  assert.equal(measured.resolve("strategy", "executor").expectedLatency, 9_000);
  assert.equal(measured.resolve("strategy", "audit").expectedLatency, DEFAULT_TRANSPORT_COSTS.tcp);
});

Deno.test("relative socket paths join the run-time socket directory, else the config's socket_dir", () => {
  const yaml = THREE_GROUPS.replace("mode: hybrid", "mode: hybrid\n  socket_dir: /run/mycelium/");
  assert.deepEqual(resolver(yaml).resolve("strategy", "executor").address, {
    kind: "unix",
    path: "/run/mycelium/execution.sock",
  });
  assert.deepEqual(
    resolver(yaml, { socketDir: "/tmp/x" }).resolve("strategy", "executor").address,
    {
      kind: "unix",
      path: "/tmp/x/execution.sock",
    },
  );
});

Deno.test("the route table lists declared routes, else every ordered pair, else the pairs asked for", () => {
  const all = resolver(THREE_GROUPS).routeTable();
  assert.equal(all.length, 6 * 5);
  assert.deepEqual(all.slice(0, 2).map((r) => [r.from, r.to]), [["collector", "relay"], [
    "collector",
    "strategy",
  ]]);
  const declared = resolver(THREE_GROUPS + "  routes:\n    - { from: strategy, to: executor }\n")
    .routeTable();
  assert.deepEqual(declared.map((r) => [r.from, r.to, r.transport]), [[
    "strategy",
    "executor",
    "unix",
  ]]);
  const asked = resolver(THREE_GROUPS).routeTable([["executor", "risk"], ["risk", "audit"]]);
  assert.deepEqual(asked.map((r) => r.transport), ["tcp", "channel"]);
});

Deno.test("resolving an actor placed nowhere throws TOPOLOGY_UNKNOWN_ACTOR with the placed ones", () => {
  const r = resolver(THREE_GROUPS);
  assert.throws(() => r.resolve("strategy", "executer"), (e: unknown) => {
    assert.ok(e instanceof TopologyError);
    assert.equal(e.code, "TOPOLOGY_UNKNOWN_ACTOR");
    assert.match(e.message, /'executer' is not placed in this topology; did you mean 'executor'\?/);
    return true;
  });
  assert.equal(r.groupOf("risk").name, "compliance");
});

Deno.test("in a distributed topology routes go over tcp to the receiver's endpoint unless unix is asked for", () => {
  const r = resolver(`
topology:
  mode: distributed
  actors:
    a: { endpoint: "127.0.0.1:7001" }
    b: { endpoint: "localhost:7002" }
    c: { transport: unix }
    d: { transport: unix, socket: d-inbox.sock }
`);
  assert.deepEqual(r.resolve("a", "b").address, { kind: "tcp", host: "localhost", port: 7002 });
  assert.equal(r.resolve("a", "b").transport, "tcp", "the mode's default, though both are local");
  assert.equal(r.resolve("a", "b").reason, "mode distributed: tcp unless unix is asked for");
  // c asked for unix, a asked for nothing (tcp is the mode's default, not a request): unix.
  assert.equal(r.resolve("a", "c").transport, "unix");
  assert.equal(r.resolve("a", "c").reason, "group c asks for unix");
  assert.equal(r.resolve("c", "a").transport, "unix", "one link carries both directions");
  assert.deepEqual(r.link("a", "c"), {
    dialer: "a",
    listener: "c",
    transport: "unix",
    reason: "group c asks for unix",
    address: { kind: "unix", path: "c.sock" },
  });
  assert.deepEqual(r.resolve("c", "d").address, { kind: "unix", path: "d-inbox.sock" });
});

Deno.test("in a distributed topology tcp asked for wins over unix asked for on one host", () => {
  const r = resolver(`
topology:
  mode: distributed
  actors:
    a: { transport: unix }
    b: { transport: tcp }
`);
  assert.equal(r.resolve("a", "b").transport, "tcp");
  assert.equal(r.resolve("b", "a").transport, "tcp");
  assert.equal(r.resolve("b", "a").reason, "group b asks for tcp");
});

Deno.test("in a distributed topology unix asked for stops at its host, with a warning that says where", () => {
  const t = parseTopology(`topology:
  mode: distributed
  hosts: { local: "10.0.0.5" }
  actors:
    a: { transport: unix }
    b:
    c: { host: box2 }
`);
  const r = new TopologyResolver(t);
  assert.equal(r.resolve("b", "a").transport, "unix");
  assert.equal(r.resolve("c", "a").transport, "tcp");
  assert.equal(r.resolve("c", "a").reason, "group a asks for unix, which cannot reach host box2");
  assert.equal(r.resolve("c", "b").transport, "tcp");
  assert.deepEqual(t.warnings.map((w) => [w.line, w.column, w.path]), [
    [5, 21, "topology.actors.a.transport"],
  ]);
  assert.match(
    t.warnings[0]?.problem ?? "",
    /actor 'a' asks for unix, but 'c' on host box2 cannot reach it by Unix socket/,
  );
  assert.match(t.warnings[0]?.fix ?? "", /place it on host local, or write transport: tcp/);
  // Declared routes decide who talks to whom: none crosses hosts into a, so no warning.
  const routed = parseTopology(`topology:
  mode: distributed
  hosts: { local: "10.0.0.5" }
  actors:
    a: { transport: unix }
    b:
    c: { host: box2 }
  routes:
    - { from: b, to: a }
    - { from: c, to: b }
`);
  assert.deepEqual(routed.warnings, []);
  // A route pinned to tcp says how: no warning either.
  const pinned = parseTopology(`topology:
  mode: distributed
  hosts: { local: "10.0.0.5" }
  actors:
    a: { transport: unix }
    c: { host: box2 }
  routes:
    - { from: c, to: a, transport: tcp }
`);
  assert.deepEqual(pinned.warnings, []);
});

Deno.test("in a distributed topology with a nats: section, actors asking nothing still default to tcp", () => {
  const r = resolver(`
nats: { servers: "nats://10.0.0.9:4222" }
topology:
  mode: distributed
  hosts: { local: "10.0.0.5" }
  actors:
    a:
    b: { host: box2 }
    c: { transport: nats }
`);
  assert.equal(r.resolve("a", "b").transport, "tcp");
  assert.equal(r.resolve("a", "c").transport, "nats");
});
