/**
 * How a run's report accounts for every signal: the trading totals merged
 * from each group's part (`mergeRun`) after a group restarted, the delivery
 * lines for each case, and the recovery line the CLI prints.
 */
import assert from "node:assert/strict";
import { mergeRun } from "../../src/cli/run_command.ts";
import { formatRun } from "../../src/cli/run_summary.ts";
import type { LinkReport } from "../../src/runtime/bus_node.ts";
import type { ActorReport, ProcessReport, RunReport } from "../../src/runtime/run_report.ts";
import { tradingApp } from "../../examples/trading/app.ts";
import {
  formatDelivery,
  type TradingPart,
  type TradingSummary,
} from "../../examples/trading/report.ts";

const shutdown = { drained: true, discarded: 0, abandonedRequests: 0 };

function link(peer: string, unmatchedReplies: number, peerRestarts = 0, resent = 0): LinkReport {
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
    reconnects: peerRestarts,
    peerRestarts,
    frames: 1,
    bytes: 1,
    resent,
  };
}

function actors(group: string, ...names: string[]): ActorReport[] {
  return names.map((name) => ({
    name,
    group,
    delivery: "mailbox",
    handled: 1,
    failed: 0,
    dropped: 0,
    discarded: 0,
    restarts: 0,
    hop: { samples: 1, p50Ns: 1, p99Ns: 1 },
    queued: { samples: 0, p50Ns: 0, p99Ns: 0 },
  }));
}

/** Four groups' reports; the executor's counters cover only its last run. */
function parts(): ProcessReport<TradingPart>[] {
  const base = { completed: true, shutdown, elapsedMs: 1, held: 0 };
  return [
    {
      ...base,
      group: "hot_path",
      actors: actors("hot_path", "polygon_collector", "market_relay", "arbitrage_strategy"),
      app: { swaps: 100, signals: 10 },
      links: [link("execution", 0, 1, 4)],
    },
    {
      ...base,
      group: "monitoring",
      actors: actors("monitoring", "metrics_collector"),
      app: {},
      links: [],
    },
    {
      ...base,
      group: "execution",
      actors: actors("execution", "order_executor"),
      app: { fills: 2, refused: 1, pnlMicro: 5n, executorGroup: "execution" },
      links: [link("compliance", 4)],
      held: 3,
    },
    {
      ...base,
      group: "compliance",
      actors: actors("compliance", "audit_trail", "risk_manager"),
      app: {
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
      },
      links: [link("execution", 1, 1, 2)],
    },
  ];
}

/** The groups' reports merged as the supervisor merges them. */
function merge(restarts: Record<string, number> = {}): RunReport<TradingSummary> {
  return mergeRun(tradingApp, "hybrid", parts(), restarts) as RunReport<TradingSummary>;
}

const figures = (s: TradingSummary) => [s.fills, s.refused, s.pnlMicro];

Deno.test("merged figures are the executor's own unless its group restarted; then the ledger's", () => {
  const plain = merge();
  assert.deepEqual(figures(plain.app), [2, 1, 5n]);
  assert.equal(plain.restart, undefined);
  assert.equal(plain.app.figuresFromLedger, false);
  assert.deepEqual(plain.app.approvedUnbooked, [8n]);
  assert.deepEqual(plain.app.stateLost, []);
  assert.deepEqual(plain.actors.map((a) => a.name), [...tradingApp.actorNames]);

  const restarted = merge({ execution: 1, hot_path: 0 });
  assert.deepEqual(figures(restarted.app), [6, 3, 40n]);
  assert.equal(restarted.app.figuresFromLedger, true);
  assert.deepEqual(restarted.restart, {
    restarts: { execution: 1 },
    stateLost: [],
    peerRestarts: 2,
    framesResent: 6,
    held: 3,
    unmatchedReplies: 5,
  });
  assert.match(
    formatDelivery(restarted.app).join("\n"),
    /^ {16}fills, refusals and P&L above come from the audit trail's ledger/m,
  );
});

Deno.test("a restart of a group without the executor leaves the executor's own figures standing", () => {
  // Only the metrics restarted (a stateless actor): the executor's counters are whole.
  const metrics = merge({ monitoring: 1 });
  assert.deepEqual(metrics.restart?.restarts, { monitoring: 1 });
  assert.deepEqual(metrics.restart?.stateLost, []);
  assert.equal(metrics.app.figuresFromLedger, false, "the executor did not restart");
  assert.deepEqual(figures(metrics.app), [2, 1, 5n]);
  assert.doesNotMatch(formatDelivery(metrics.app).join("\n"), /come from the audit trail's ledger/);
});

Deno.test("a restart that lost the audit trail's or the risk manager's state is not passed off as accounted", () => {
  const s = merge({ compliance: 1, execution: 1 });
  assert.deepEqual(s.restart?.stateLost, ["audit_trail", "risk_manager"]);
  assert.deepEqual(s.app.stateLost, ["audit_trail", "risk_manager"]);
  // The ledger restarted too: it cannot stand in for the executor's counters.
  assert.equal(s.app.figuresFromLedger, false);
  assert.deepEqual(figures(s.app), [2, 1, 5n]);
  const text = formatDelivery(s.app).join("\n");
  assert.match(text, /^ {2}delivery {6}not accounted: audit_trail, risk_manager restarted/m);
  assert.match(text, /the figures above cover their last run only/);
  assert.doesNotMatch(text, /lost in flight|each once|every signal executed once/);
});

function summary(over: Partial<TradingSummary>): TradingSummary {
  return { ...merge().app, ...over };
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
  const restarted = merge({ execution: 1 }).app;
  const s: TradingSummary = {
    ...restarted,
    ledger: { ...restarted.ledger, executed: 0, missing, repeats: 2 },
  };
  const text = formatDelivery(s).join("\n");
  assert.match(text, /10 signals sent; 0 executions booked by the audit trail, each once/);
  assert.match(text, /2 handled again after a restart/);
  assert.match(
    text,
    /15 lost in flight .*: ids 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 3 more$/m,
  );
  assert.match(text, /risk manager approved 1 whose execution never arrived .*: ids 8$/m);
  assert.match(text, /fills, refusals and P&L above come from the audit trail's ledger/);
});

Deno.test("delivery: a run stopped early does not claim anything about signals it never finished", () => {
  const text = formatDelivery(summary({ completed: false })).join("\n");
  assert.match(text, /the run stopped before the end of the stream reached the audit trail/);
  assert.doesNotMatch(text, /every signal executed once|lost in flight/);
});

Deno.test("the printed report says what a restart cost: restarts, reconnections, held messages, state lost", async () => {
  const params = { swaps: 100, seed: 1, audit: "unused.log" };
  const printed = await formatRun(tradingApp, merge({ execution: 1 }), params);
  assert.match(
    printed,
    /^ {2}recovery {6}restarted: execution ×1; peers reconnected to a new instance 2 times and resent 6 frames it had not acknowledged; 3 messages held until it was ready; state lost: none; 5 replies matched no pending request/m,
  );
  assert.match(
    printed,
    /^ {2}links {9}3 link ends; 3 messages sent in 3 frames, 3 bytes; 6 frames resent; 0 dropped or undelivered; 2 reconnects$/m,
  );
  // The audit trail ran in a group whose report names no file here: no checksum to show.
  assert.match(printed, /^ {2}audit {9}\(audit trail runs on another host\): 24 lines$/m);
  const lost = await formatRun(tradingApp, merge({ execution: 1, compliance: 2 }), params);
  assert.match(
    lost,
    /recovery {6}restarted: execution ×1, compliance ×2; .*state lost: audit_trail, risk_manager;/,
  );
  const clean = await formatRun(tradingApp, merge(), params);
  assert.doesNotMatch(clean, /^ {2}recovery /m);
});
