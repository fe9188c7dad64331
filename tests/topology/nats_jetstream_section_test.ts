/**
 * JetStream in the topology: `jetstream:` under `nats:` names the stream,
 * `delivery: jetstream` on a group asks for it, and asking without the
 * stream (or a bad value) is refused with line, column and fix.
 */
import assert from "node:assert/strict";
import { errorOf, yaml } from "./_support.ts";
import { parseTopology } from "../../src/topology/mod.ts";

const GROUPS = [
  "topology:",
  "  mode: hybrid",
  "  process_groups:",
  "    feed: { actors: [collector], host: alpha }",
  "    books: { actors: [ledger], host: beta, delivery: jetstream }",
];

Deno.test("nats jetstream: the stream's name, replicas and each group's delivery load into the model", () => {
  const t = parseTopology(yaml(
    ...GROUPS,
    "nats:",
    "  servers: nats://127.0.0.1:4222",
    "  subject_prefix: acme.prod",
    "  jetstream: { replicas: 3 }",
  ));
  assert.equal(t.nats?.jetstream?.stream, "MYCELIUM_ACME_PROD");
  assert.equal(t.nats?.jetstream?.replicas, 3);
  assert.equal(t.nats?.jetstream?.at.line, 9);
  assert.equal(t.groups.get("books")?.delivery, "jetstream");
  assert.equal(t.groups.get("feed")?.delivery, undefined);
  const one = parseTopology(yaml(...GROUPS, "nats: { servers: a:1, jetstream: true }"));
  assert.equal(one.nats?.jetstream?.replicas, 1);
  assert.equal(one.nats?.jetstream?.stream, "MYCELIUM_MYCELIUM");
});

Deno.test("nats jetstream: a distributed actor may ask for delivery: jetstream", () => {
  const t = parseTopology(yaml(
    "topology:",
    "  mode: distributed",
    "  actors:",
    "    ledger: { host: beta, delivery: jetstream }",
    "nats: { servers: a:1, jetstream: true }",
  ));
  assert.equal(t.groups.get("ledger")?.delivery, "jetstream");
});

Deno.test("nats jetstream: errors name line, column and fix", async (t) => {
  const cases: [string, string[], number, number, RegExp, RegExp][] = [
    [
      "delivery: jetstream without jetstream: under nats:",
      ["nats: { servers: a:1 }"],
      5,
      54,
      /asks for delivery: jetstream, but the nats: section has no jetstream:/,
      /add jetstream: \{ replicas: 3 \} under nats:/,
    ],
    [
      "delivery: jetstream without a nats: section",
      [],
      5,
      54,
      /the topology has no nats: section/,
      /jetstream: \{ replicas: 3 \}/,
    ],
    [
      "an unknown delivery",
      [],
      5,
      54,
      /'stored' is not a valid value/,
      /one of core, jetstream/,
    ],
    [
      "replicas out of range",
      ["nats: { servers: a:1, jetstream: { replicas: 7 } }"],
      6,
      46,
      /7 is too large/,
      /from 1 to 5/,
    ],
  ];
  for (const [name, lines, line, column, problem, fix] of cases) {
    await t.step(name, () => {
      const groups = name === "an unknown delivery"
        ? GROUPS.map((l) => l.replace("delivery: jetstream", "delivery: stored"))
        : GROUPS;
      const e = errorOf(yaml(...groups, ...lines));
      const p = e.problems[0]!;
      assert.match(p.problem, problem, e.message);
      assert.match(p.fix, fix, e.message);
      assert.deepEqual([p.line, p.column], [line, column], e.message);
    });
  }
});
