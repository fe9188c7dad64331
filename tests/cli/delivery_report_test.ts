/**
 * How a run's summary accounts for every signal: the merged figures after a
 * group restarted, and the delivery and recovery lines for each case.
 */
import assert from "node:assert/strict";
import { formatDelivery } from "../../src/cli/run_command.ts";
import type { ActorSummary, PipelineSummary } from "../../src/pipeline/pipeline.ts";
import { type GroupSummary, mergeGroupSummaries } from "../../src/runtime/run_group.ts";
import type { LinkReport } from "../../src/runtime/bus_node.ts";

const shutdown = { drained: true, discarded: 0, abandonedRequests: 0 };

function link(peer: string, unmatchedReplies: number): LinkReport {
  return {
    peer,
    address: "/tmp/x.sock",
    state: "closed",
    sent: 1,
    received: 1,
    dropped: 0,
    undelivered: 0,
    refused: 0,
    unmatchedReplies,
    reconnects: 0,
    peerRestarts: 0,
  };
}

function actors(...names: string[]): ActorSummary[] {
  return names.map((name) => ({
    name,
    handled: 1,
    failed: 0,
    dropped: 0,
    discarded: 0,
    restarts: 0,
    p50Ns: 1,
    p99Ns: 1,
  }));
}

/** Four groups' summaries; the executor's counters cover only its last run. */
function parts(): GroupSummary[] {
  const base = { completed: true, shutdown, elapsedMs: 1 };
  return [
    {
      ...base,
      group: "hot_path",
      actors: actors("polygon_collector", "market_relay", "arbitrage_strategy"),
      swaps: 100,
      signals: 10,
      links: [link("execution", 0)],
    },
    { ...base, group: "monitoring", actors: actors("metrics_collector"), links: [] },
    {
      ...base,
      group: "execution",
      actors: actors("order_executor"),
      fills: 2,
      refused: 1,
      pnlMicro: 5n,
      links: [link("compliance", 4)],
    },
    {
      ...base,
      group: "compliance",
      actors: actors("audit_trail", "risk_manager"),
      halted: false,
      exposureMicro: 7n,
      auditLines: 24,
      ledger: {
        signalsSent: 10,
        executed: 9,
        fills: 6,
        refused: 3,
        pnlMicro: 40n,
        repeats: 2,
        missing: [8n],
      },
      approvedUnbooked: [8n],
      links: [link("execution", 1)],
    },
  ];
}

Deno.test("merged figures are the executor's own unless its group restarted; then the ledger's", () => {
  const plain = mergeGroupSummaries(parts());
  assert.deepEqual([plain.fills, plain.refused, plain.pnlMicro], [2, 1, 5n]);
  assert.equal(plain.recovery, undefined);
  assert.deepEqual(plain.approvedUnbooked, [8n]);

  const restarted = mergeGroupSummaries(parts(), { restarts: { execution: 1, hot_path: 0 } });
  assert.deepEqual([restarted.fills, restarted.refused, restarted.pnlMicro], [6, 3, 40n]);
  assert.deepEqual(restarted.recovery, {
    restarts: { execution: 1 },
    stateLost: [],
    figuresFromLedger: true,
    unmatchedReplies: 5,
  });

  // Only the metrics restarted: the executor's counters are whole, so they stand.
  const metrics = mergeGroupSummaries(parts(), { restarts: { monitoring: 1 } });
  assert.deepEqual([metrics.fills, metrics.refused, metrics.pnlMicro], [2, 1, 5n]);
  assert.deepEqual(metrics.recovery?.stateLost, []);
  assert.equal(metrics.recovery?.figuresFromLedger, false);
  assert.match(formatDelivery(metrics).join("\n"), /figures above are the actors' own/);
});

Deno.test("a restart that lost the audit trail's or the risk manager's state is not passed off as accounted", () => {
  const s = mergeGroupSummaries(parts(), { restarts: { compliance: 1, execution: 1 } });
  assert.deepEqual(s.recovery?.stateLost, ["audit_trail", "risk_manager"]);
  // The ledger restarted too: it cannot stand in for the executor's counters.
  assert.equal(s.recovery?.figuresFromLedger, false);
  assert.deepEqual([s.fills, s.refused, s.pnlMicro], [2, 1, 5n]);
  const text = formatDelivery(s).join("\n");
  assert.match(text, /delivery {6}not accounted: audit_trail, risk_manager restarted/);
  assert.match(text, /figures above cover the restarted actors' last run only/);
  assert.doesNotMatch(text, /lost in flight|each once/);
});

function summary(over: Partial<PipelineSummary>): PipelineSummary {
  return { ...mergeGroupSummaries(parts()), ...over };
}

Deno.test("delivery: one line when every signal was executed once", () => {
  const s = summary({
    ledger: {
      signalsSent: 10,
      executed: 10,
      fills: 7,
      refused: 3,
      pnlMicro: 1n,
      repeats: 0,
      missing: [],
    },
    approvedUnbooked: [],
  });
  assert.deepEqual(formatDelivery(s), [
    "  delivery      every signal executed once (10 sent, 10 booked by the audit trail)",
  ]);
});

Deno.test("delivery: repeats, lost ids and stranded approvals are each reported; long id lists are cut", () => {
  const missing = Array.from({ length: 15 }, (_, i) => BigInt(i + 1));
  const s = {
    ...mergeGroupSummaries(parts(), { restarts: { execution: 1 } }),
    ledger: { ...parts()[3]!.ledger!, executed: 0, missing, repeats: 2 },
  };
  const text = formatDelivery(s).join("\n");
  assert.match(text, /10 signals sent; 0 executions booked by the audit trail, each once/);
  assert.match(text, /2 handled again after a restart/);
  assert.match(
    text,
    /15 lost in flight .*: ids 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 3 more$/m,
  );
  assert.match(text, /risk manager approved 1 whose execution never arrived .*: ids 8$/m);
  assert.match(
    text,
    /recovery {6}restarted: execution ×1; fills, refusals and P&L above come from/,
  );
  assert.match(text, /5 replies matched no pending request/);
});

Deno.test("delivery: a run stopped early does not claim anything about signals it never finished", () => {
  const text = formatDelivery(summary({ completed: false })).join("\n");
  assert.match(text, /the run stopped before the end of the stream reached the audit trail/);
  assert.doesNotMatch(text, /every signal executed once|lost in flight/);
});
