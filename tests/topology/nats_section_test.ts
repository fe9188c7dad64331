/**
 * The top-level `nats:` section: what it loads into, which routes go through
 * the cluster, and the errors (line, column, fix) of a wrong section.
 */
import assert from "node:assert/strict";
import { errorOf, yaml } from "./_support.ts";
import { parseTopology, TopologyResolver } from "../../src/topology/mod.ts";
import { groupPlan } from "../../src/runtime/group_plan.ts";

const SPREAD = [
  "topology:",
  "  mode: hybrid",
  "  process_groups:",
  "    feed: { actors: [collector], host: alpha }",
  "    logic: { actors: [strategy], host: beta }",
  "    books: { actors: [ledger, audit], host: beta }",
];

Deno.test("nats section: servers, credentials, tls and prefix load into the model", () => {
  const t = parseTopology(yaml(
    ...SPREAD,
    "nats:",
    '  servers: ["127.0.0.1:4222", "tls://10.0.0.7:4333"]',
    "  user: app",
    '  password: "s3cret"',
    "  tls: { ca: certs/ca.pem }",
    "  subject_prefix: acme.prod",
  ));
  assert.deepEqual(t.nats?.servers, ["nats://127.0.0.1:4222", "tls://10.0.0.7:4333"]);
  assert.deepEqual(t.nats?.auth, { kind: "user", user: "app", password: "s3cret" });
  assert.equal(t.nats?.tls?.caFile, "certs/ca.pem");
  assert.equal(t.nats?.subjectPrefix, "acme.prod");
  assert.equal(t.nats?.at.line, 7);
});

Deno.test("nats section: every route between hosts goes through the cluster, not the same host", () => {
  const t = parseTopology(yaml(...SPREAD, "nats: { servers: nats://127.0.0.1:4222 }"));
  assert.equal(t.nats?.subjectPrefix, "mycelium");
  const r = new TopologyResolver(t);
  assert.equal(r.resolve("collector", "strategy").transport, "nats");
  assert.equal(r.resolve("strategy", "ledger").transport, "unix");
  assert.equal(r.resolve("ledger", "audit").transport, "channel");
  assert.equal(r.resolve("collector", "strategy").address, undefined);
  const plan = groupPlan(t, "feed", { socketDir: "/tmp/x" });
  assert.deepEqual(plan.nats, ["books", "logic"]);
  assert.deepEqual(plan.dial, []);
  assert.deepEqual(plan.listen, []);
  assert.deepEqual(plan.peers, ["books", "logic"]);
});

Deno.test("nats section: without it the same hosts talk tcp (no regression)", () => {
  const r = new TopologyResolver(parseTopology(yaml(...SPREAD)));
  assert.equal(r.resolve("collector", "strategy").transport, "tcp");
});

Deno.test("a group with transport: nats is reached through the cluster even from its own host", () => {
  const t = parseTopology(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    a: { actors: [x] }",
    "    b: { actors: [y], transport: nats }",
    "    c: { actors: [z] }",
    "nats: { servers: [nats://127.0.0.1:4222] }",
  ));
  const r = new TopologyResolver(t);
  assert.equal(r.resolve("x", "y").transport, "nats");
  assert.equal(r.resolve("y", "z").transport, "nats");
  assert.equal(r.resolve("x", "z").transport, "unix");
  assert.equal(r.link("a", "b").transport, "nats");
  assert.match(r.resolve("x", "y").reason, /asks for nats/);
});

Deno.test("a route pinned to tcp between hosts wins over the nats default", () => {
  const t = parseTopology(yaml(
    ...SPREAD,
    "  routes:",
    "    - { from: collector, to: strategy, transport: tcp }",
    "nats: { servers: [nats://127.0.0.1:4222] }",
  ));
  const r = new TopologyResolver(t);
  assert.equal(r.resolve("collector", "strategy").transport, "tcp");
  assert.equal(groupPlan(t, "feed", { socketDir: "/tmp/x" }).dial[0]?.group, "logic");
});

Deno.test("transport: nats without a nats: section names the group's line and says what to add", () => {
  const e = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    a: { actors: [x] }",
    "    b: { actors: [y], transport: nats }",
  ));
  assert.equal(e.code, "TOPOLOGY_TRANSPORT_CONFLICT");
  assert.deepEqual([e.line, e.column], [5, 34]);
  assert.match(e.fix, /nats: \{ servers:/);
});

Deno.test("a route pinned to nats without a nats: section is refused at its pin", () => {
  const e = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    a: { actors: [x] }",
    "    b: { actors: [y] }",
    "  routes:",
    "    - { from: x, to: y, transport: nats }",
  ));
  assert.equal(e.code, "TOPOLOGY_TRANSPORT_CONFLICT");
  assert.equal(e.line, 7);
  assert.match(e.message, /no nats: section/);
});

Deno.test("nats section errors name line, column and fix", async (t) => {
  const cases: [string, string[], number, number, RegExp, RegExp][] = [
    [
      "a bad server URL",
      ["nats:", "  servers: [nats://127.0.0.1:4222, 'http://x:1']"],
      8,
      36,
      /not a NATS server URL/,
      /nats:\/\/host:port/,
    ],
    ["no servers", ["nats:", "  token: abc"], 8, 3, /'servers' is missing/, /servers:/],
    [
      "an unknown key",
      ["nats:", "  servers: [a:1]", "  tokn: abc"],
      9,
      3,
      /unknown key 'tokn'/,
      /did you mean 'token'/,
    ],
    [
      "two ways to authenticate",
      ["nats:", "  servers: [a:1]", "  token: abc", "  user: me", "  password: pw"],
      10,
      3,
      /token and user/,
      /keep one/,
    ],
    [
      "a user without password",
      ["nats:", "  servers: [a:1]", "  user: me"],
      9,
      3,
      /without password/,
      /add password/,
    ],
    [
      "a bad subject prefix",
      ["nats:", "  servers: [a:1]", "  subject_prefix: 'a.>'"],
      9,
      19,
      /not a subject prefix/,
      /joined by dots/,
    ],
    [
      "a cert without key",
      ["nats:", "  servers: [a:1]", "  tls: { cert: c.pem }"],
      9,
      10,
      /cert: and key:/,
      /add key:/,
    ],
    [
      "nats under topology:",
      ["  nats: { servers: [a:1] }"],
      7,
      3,
      /unknown key 'nats'/,
      /top-level section/,
    ],
  ];
  for (const [name, lines, line, column, problem, fix] of cases) {
    await t.step(name, () => {
      const e = errorOf(yaml(...SPREAD, ...lines));
      assert.equal(e.code, "TOPOLOGY_INVALID", e.message);
      assert.deepEqual([e.line, e.column], [line, column], e.message);
      assert.match(e.message, problem);
      assert.match(e.fix, fix);
    });
  }
});
