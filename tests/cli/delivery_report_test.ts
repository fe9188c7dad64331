/**
 * How a run's summary accounts for every signal: the merged figures after a
 * group restarted, and the delivery and recovery lines for each case.
 */
import assert from "node:assert/strict";
import { formatDelivery } from "../../src/cli/run_command.ts";
import type { PipelineSummary } from "../../src/pipeline/pipeline.ts";
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
  };
}

/** Three groups' summaries; the executor's counters cover only its last run. */
function parts(): GroupSummary[] {
  const base = { completed: true, actors: [], shutdown, elapsedMs: 1 };
  return [
    { ...base, group: "hot_path", swaps: 100, signals: 10, links: [link("execution", 0)] },
    {
      ...base,
      group: "execution",
      fills: 2,
      refused: 1,
      pnlMicro: 5n,
      links: [link("compliance", 4)],
    },
    {
      ...base,
      group: "compliance",
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
    figuresFromLedger: true,
    unmatchedReplies: 5,
  });

  // Another group restarted: the executor's counters are whole, so they stand.
  const other = mergeGroupSummaries(parts(), { restarts: { compliance: 2 } });
  assert.deepEqual([other.fills, other.refused, other.pnlMicro], [2, 1, 5n]);
  assert.equal(other.recovery?.figuresFromLedger, false);
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
    ledger: { ...parts()[2]!.ledger!, executed: 0, missing, repeats: 2 },
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
  assert.match(text, /5 replies meant for a stopped process were ignored/);
});

Deno.test("delivery: a run stopped early does not claim anything about signals it never finished", () => {
  const text = formatDelivery(summary({ completed: false })).join("\n");
  assert.match(text, /the run stopped before the end of the stream reached the audit trail/);
  assert.doesNotMatch(text, /every signal executed once|lost in flight/);
});
