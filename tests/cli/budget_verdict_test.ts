/**
 * How the budgets table judges a route from the hop times measured at its
 * receiver: on the hop p99 once enough deliveries found the receiver idle;
 * on the queued p99 when even waiting deliveries started in time; and not at
 * all on one or two idle samples (a first, cold delivery) or none.
 */
import assert from "node:assert/strict";
import {
  checkBudgets,
  formatBudgets,
  formatRun,
  MIN_HOP_SAMPLES,
  queuedShare,
} from "../../src/cli/run_summary.ts";
import { defineApp } from "../../src/app/app.ts";
import type { ActorReport, DeliveryTimes } from "../../src/runtime/run_report.ts";
import { parseTopology } from "../../src/topology/mod.ts";

const topology = parseTopology(`topology:
  mode: monolith
  actors: { a: {}, b: {} }
  routes:
    - { from: a, to: b }
performance:
  expected_latency: "1µs"
`);

function receiver(
  hop: DeliveryTimes,
  queued: DeliveryTimes,
  delivery: ActorReport["delivery"] = "mailbox",
  group = "main",
): ActorReport {
  return {
    name: "b",
    group,
    delivery,
    handled: 100,
    failed: 0,
    dropped: 0,
    discarded: 0,
    restarts: 0,
    hop,
    queued,
  };
}

const none: DeliveryTimes = { samples: 0, p50Ns: 0, p99Ns: 0 };
const verdictOf = (hop: DeliveryTimes, queued: DeliveryTimes = none) =>
  checkBudgets(topology, [receiver(hop, queued)])[0]!;

Deno.test("a route is judged on its hop p99 once enough deliveries found the receiver idle", () => {
  const ok = verdictOf({ samples: MIN_HOP_SAMPLES, p50Ns: 400, p99Ns: 900 });
  assert.equal(ok.verdict, "ok");
  assert.equal(ok.ok, true);
  const over = verdictOf({ samples: 500, p50Ns: 400, p99Ns: 1_500 });
  assert.equal(over.verdict, "over");
  assert.equal(over.ok, false);
  assert.match(formatBudgets([over], false), /^a +b +channel +1.0 µs .* OVER$/m);
});

Deno.test("one slow idle delivery (a cold first one) does not judge a route OVER", () => {
  const cold = verdictOf({ samples: 1, p50Ns: 2_000_000, p99Ns: 2_000_000 }, {
    samples: 300,
    p50Ns: 5_000_000,
    p99Ns: 40_000_000,
  });
  assert.equal(cold.verdict, "few");
  assert.equal(cold.ok, false);
  const table = formatBudgets([cold], false);
  assert.match(table, /found the receiver idle fewer than 10 times, too few to judge/);
  assert.match(table, /^a +b +channel .* too few idle samples$/m);
});

Deno.test("a quiet route with few idle samples, all within the budget, is ok", () => {
  const quiet = verdictOf({ samples: 3, p50Ns: 400, p99Ns: 700 });
  assert.equal(quiet.verdict, "ok");
  assert.equal(quiet.ok, true);
});

Deno.test("few idle samples, but queued deliveries within the budget: bounded", () => {
  const bounded = verdictOf({ samples: 2, p50Ns: 3_000, p99Ns: 3_000 }, {
    samples: 300,
    p50Ns: 200,
    p99Ns: 800,
  });
  assert.equal(bounded.verdict, "bounded");
  assert.equal(bounded.ok, true);
});

Deno.test("no idle sample and slow queued deliveries: unknown; a direct call has no hop", () => {
  assert.equal(verdictOf(none, { samples: 300, p50Ns: 2_000, p99Ns: 9_000 }).verdict, "unknown");
  const direct = checkBudgets(topology, [receiver(none, none, "direct")])[0]!;
  assert.equal(direct.verdict, "direct");
  assert.equal(direct.ok, true);
});

/** `a` and `b` in two processes, `b`'s reached over TCP. */
const split = parseTopology(`topology:
  mode: hybrid
  process_groups:
    source: { actors: [a] }
    agg: { actors: [b], transport: tcp, endpoint: "127.0.0.1:7631" }
  routes:
    - { from: a, to: b, latency: "1µs" }
`);

/** Sender `a` as it ran, in `group`. */
function sender(group: string): ActorReport {
  return { ...receiver(none, none, "mailbox", group), name: "a", handled: 0 };
}

Deno.test("a route from another process to an actor called directly in its own is judged on its hop", () => {
  // b is a fixed route's sync target in its group; a publishes to it from the other group.
  const slow = receiver(
    { samples: 200, p50Ns: 3_000, p99Ns: 110_000 },
    none,
    "direct+mailbox",
    "agg",
  );
  const over = checkBudgets(split, [sender("source"), slow])[0]!;
  assert.equal(over.transport, "tcp");
  assert.equal(over.verdict, "over");
  assert.equal(over.ok, false);
  const table = formatBudgets([over], false);
  assert.match(table, /^budgets: 0 of 1 declared routes within their latency budget$/m);
  assert.doesNotMatch(table, /direct call/);
  assert.match(table, /^a +b +tcp +1.0 µs .* 110.0 µs .* OVER$/m);
  const fast = receiver({ samples: 200, p50Ns: 300, p99Ns: 900 }, none, "direct+mailbox", "agg");
  assert.equal(checkBudgets(split, [sender("source"), fast])[0]!.verdict, "ok");
  // Nothing it got from the link was timed: not shown within, and not said to have queued.
  const untimed = checkBudgets(split, [
    sender("source"),
    receiver(none, none, "direct", "agg"),
  ])[0]!;
  assert.equal(untimed.verdict, "untimed");
  assert.equal(untimed.ok, false);
  assert.match(formatBudgets([untimed], false), /1 had no timed delivery at the receiver/);
  assert.match(formatBudgets([untimed], false), /^a +b +tcp .* not timed$/m);
});

Deno.test("a direct call counts as one only when its sender ran in the receiver's process", () => {
  const both = checkBudgets(split, [sender("agg"), receiver(none, none, "direct+mailbox", "agg")]);
  assert.equal(both[0]!.verdict, "in-process", "the config's tcp route ran inside one group");
  const inGroup = parseTopology(`topology:
  mode: hybrid
  process_groups:
    one: { actors: [a, b] }
    two: { actors: [c], transport: unix_socket }
  routes:
    - { from: a, to: b, latency: "1ns" }
`);
  const direct = checkBudgets(inGroup, [
    sender("one"),
    receiver({ samples: 50, p50Ns: 5_000, p99Ns: 9_000 }, none, "direct+mailbox", "one"),
  ])[0]!;
  assert.equal(direct.verdict, "direct");
  assert.equal(direct.ok, true);
  // The receiver's hop figures are other senders' deliveries, not this route's.
  assert.match(
    formatBudgets([direct], false),
    /^a +b +channel +1 ns +topology\.routes\[0\]\.latency +- +- +- +direct call$/m,
  );
  assert.match(
    formatBudgets([direct], false),
    /1 of 1 declared routes within .*; 1 of them direct calls in the sender's process/,
  );
});

Deno.test("a route the config sends over a link but that ran in one process is not judged", () => {
  // validate --measure and run --mode monolith run every actor in one process ("main").
  const mono = [sender("main"), receiver({ samples: 200, p50Ns: 300, p99Ns: 700 }, none)];
  const local = checkBudgets(split, mono)[0]!;
  assert.equal(local.verdict, "in-process");
  assert.equal(local.ok, false);
  const table = formatBudgets([local], true);
  assert.match(
    table,
    /^budgets: 0 of 1 declared routes within their latency budget; 1 not judged: the config sends them over tcp, but this run had sender and receiver in one process/m,
  );
  assert.match(table, /^a +b +tcp +1.0 µs .* in one process: not judged$/m);
  // A channel route of the same run is judged as before.
  assert.equal(verdictOf({ samples: 200, p50Ns: 300, p99Ns: 700 }).verdict, "ok");
});

Deno.test("the actor table's footnote explains only the deliveries it shows", async () => {
  const app = defineApp({
    name: "t",
    messages: [],
    lifecycle: "job",
    actors: { a: () => ({ handlers: [] }), b: () => ({ handlers: [] }) },
  });
  const run = (actors: ActorReport[]) =>
    formatRun(app, {
      name: "t",
      mode: "hybrid",
      groups: ["source", "agg"],
      completed: true,
      actors,
      links: [],
      shutdown: { drained: true, discarded: 0, abandonedRequests: 0 },
      restart: undefined,
      elapsedMs: 10,
      app: undefined,
    }, {});
  const splitRun = await run([sender("source"), receiver(none, none, "direct+mailbox", "agg")]);
  assert.match(splitRun, /^b +agg +direct\+mailbox /m);
  assert.match(
    splitRun,
    /direct\+mailbox: senders in its process call it directly \(untimed\); what other processes/,
  );
  assert.doesNotMatch(splitRun, /direct: called inside the sender's send or publish/);
  const monolith = await run([sender("main"), receiver(none, none, "direct")]);
  assert.match(monolith, /direct: called inside the sender's send or publish, no hop to time\)$/m);
  assert.doesNotMatch(monolith, /direct\+mailbox/);
  const mailboxes = await run([sender("main"), receiver(none, none)]);
  assert.match(mailboxes, /one delivery in 8 is timed\)$/m);
  assert.doesNotMatch(mailboxes, /direct/);
});

Deno.test("the share of timed deliveries that queued says <1% or >99% rather than round to 0 or 100", () => {
  const share = (idle: number, waited: number) =>
    queuedShare(
      receiver({ samples: idle, p50Ns: 1, p99Ns: 1 }, { samples: waited, p50Ns: 1, p99Ns: 1 }),
    );
  assert.equal(share(999, 1), "<1%");
  assert.equal(share(1, 999), ">99%");
  assert.equal(share(1000, 0), "0%");
  assert.equal(share(0, 1000), "100%");
  assert.equal(share(3, 1), "25%");
  assert.equal(share(0, 0), "-");
});
