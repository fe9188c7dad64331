/**
 * The trading app run in one process (`runProcess` with a monolith
 * topology): exactly the plain computation's results and audit trail, the
 * same in faithful mode, with bus routing and from a replayed swap file, and
 * an early stop accounted for.
 *
 * @module
 */
import assert from "node:assert/strict";
import { deterministicPart } from "./_summary.ts";
import { runTrading, tradingAppWith } from "./_run.ts";
import { ACTOR, AuditTrail } from "../../../examples/trading/actors.ts";
import { tradingApp } from "../../../examples/trading/app.ts";
import { ArbitrageDetector } from "../../../examples/trading/arbitrage.ts";
import { executionLine, signalLine } from "../../../examples/trading/audit.ts";
import { FillSimulator, notionalOf, RiskBook } from "../../../examples/trading/execution.ts";
import { SwapSource } from "../../../examples/trading/market.ts";

/** The same computation without actors or a bus: what the app must reproduce. */
function expected(swaps: number, seed: number) {
  const source = new SwapSource({ seed });
  const detector = new ArbitrageDetector();
  const risk = new RiskBook();
  const sim = new FillSimulator();
  let audit = "";
  let fills = 0;
  let refused = 0;
  let pnl = 0n;
  for (let i = 0; i < swaps; i++) {
    const signal = detector.onSwap(source.next());
    if (signal === undefined) continue;
    const verdict = risk.check({
      opportunityId: signal.opportunityId,
      notionalMicro: notionalOf(signal),
    });
    const execution = sim.fill(signal, verdict);
    risk.record(execution);
    if (execution.filled) {
      fills++;
      pnl += execution.pnlMicro;
    } else refused++;
    audit += signalLine(signal) + executionLine(execution);
  }
  return { audit, signals: detector.signals, fills, refused, pnl, exposure: risk.exposureMicro };
}

Deno.test("the trading app in one process writes exactly the audit trail of the plain computation", async () => {
  const { part, total, audit } = await runTrading({ swaps: 3_000, seed: 3 });
  const want = expected(3_000, 3);
  const s = total.app;
  assert.ok(want.signals > 50, "the market should produce signals");
  assert.equal(part.group, "main");
  assert.equal(part.completed, true);
  assert.equal(total.completed, true);
  assert.equal(s.completed, true);
  assert.equal(s.swaps, 3_000);
  assert.equal(s.signals, want.signals);
  assert.equal(s.fills, want.fills);
  assert.equal(s.refused, want.refused);
  assert.equal(s.pnlMicro, want.pnl);
  assert.equal(s.exposureMicro, want.exposure);
  assert.equal(audit, want.audit);
  assert.equal(s.auditLines, 2 * want.signals);
  assert.deepEqual(s.ledger, {
    signalsSent: want.signals,
    executed: want.signals,
    fills: want.fills,
    refused: want.refused,
    pnlMicro: want.pnl,
    repeats: 0,
    missing: [],
  });
  assert.deepEqual(s.approvedUnbooked, []);
  assert.equal(s.figuresFromLedger, false);
  const byName = new Map(total.actors.map((a) => [a.name, a]));
  assert.deepEqual(total.actors.map((a) => a.name), [...tradingApp.actorNames]);
  assert.equal(byName.size, 7);
  assert.equal(byName.get(ACTOR.relay)?.handled, 3_001, "every swap plus the end marker");
  assert.equal(byName.get(ACTOR.metrics)?.handled, 3_000 + want.signals);
  // The market-data path by direct calls: collector to relay, relay to strategy and metrics.
  assert.equal(byName.get(ACTOR.collector)?.delivery, "direct");
  assert.equal(byName.get(ACTOR.relay)?.delivery, "direct");
  assert.equal(byName.get(ACTOR.strategy)?.delivery, "direct");
  assert.equal(byName.get(ACTOR.metrics)?.delivery, "direct");
  assert.equal(byName.get(ACTOR.executor)?.delivery, "mailbox");
  for (const a of total.actors) {
    assert.equal(a.failed + a.dropped + a.discarded + a.restarts, 0, a.name);
    assert.equal(a.group, "main", a.name);
  }
  assert.equal(total.shutdown.drained, true);
  assert.deepEqual(total.links, []);
  assert.equal(total.restart, undefined);
});

Deno.test("the trading app gives the same results in faithful mode (every message through the codec)", async () => {
  const plain = await runTrading({ swaps: 2_000, seed: 11 });
  const faithful = await runTrading({ swaps: 2_000, seed: 11, faithful: true });
  assert.deepEqual(deterministicPart(faithful.total), deterministicPart(plain.total));
  assert.equal(faithful.audit, plain.audit);
});

Deno.test("the trading app gives the same results with every message through the bus (no direct calls)", async () => {
  const fixed = await runTrading({ swaps: 2_000, seed: 12 });
  const bus = await runTrading({ swaps: 2_000, seed: 12, routing: "bus" });
  assert.ok(bus.total.actors.every((a) => a.delivery === "mailbox"));
  assert.deepEqual(deterministicPart(bus.total), deterministicPart(fixed.total));
  assert.equal(bus.audit, fixed.audit);
});

Deno.test("a replayed swap file gives the same run as the generator it was recorded from", async () => {
  const source = new SwapSource({ seed: 4 });
  const swaps = Array.from({ length: 1_500 }, () => source.next());
  const live = await runTrading({ swaps: 1_500, seed: 4 });
  const replay = await runTrading({ replay: swaps });
  assert.ok(live.total.app.signals > 0, "the market should produce signals");
  assert.deepEqual(deterministicPart(replay.total), deterministicPart(live.total));
  assert.equal(replay.audit, live.audit);
});

for (const routing of ["fixed", "bus"] as const) {
  Deno.test(`stopping a run early (routing ${routing}) reports it as incomplete and accounts for every message`, async () => {
    const controller = new AbortController();
    let lines = 0;
    // The audit trail's sink stops the run at its 20th line: mid-run, whatever the machine's speed.
    const app = tradingAppWith({
      [ACTOR.audit]: (env) =>
        new AuditTrail({
          write: (line) => {
            env.shared.audit!.write(line);
            if (++lines === 20) controller.abort();
          },
        }, () => env.done()),
    });
    const { part, total } = await runTrading({
      app,
      swaps: 50_000,
      routing,
      signal: controller.signal,
    });
    assert.equal(part.completed, false);
    assert.equal(total.completed, false);
    assert.equal(total.app.completed, false);
    assert.ok(total.app.swaps > 0);
    assert.ok(total.app.swaps < 50_000, "the collector went on to the end of its feed");
    assert.ok(total.app.auditLines >= 20);
    // Whatever was queued when the bus closed is counted, never silently lost.
    const relay = total.actors.find((a) => a.name === ACTOR.relay);
    assert.ok(relay !== undefined);
    assert.equal(relay.handled + relay.discarded + relay.dropped, total.app.swaps);
  });
}
