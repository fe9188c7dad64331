/**
 * How the budgets table judges a route from the hop times measured at its
 * receiver: on the hop p99 once enough deliveries found the receiver idle;
 * on the queued p99 when even waiting deliveries started in time; and not at
 * all on one or two idle samples (a first, cold delivery) or none.
 */
import assert from "node:assert/strict";
import { checkBudgets, formatBudgets, MIN_HOP_SAMPLES } from "../../src/cli/run_summary.ts";
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
  delivery: "mailbox" | "direct" = "mailbox",
): ActorReport {
  return {
    name: "b",
    group: "main",
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
