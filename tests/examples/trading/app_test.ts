import assert from "node:assert/strict";
import { deterministicPart } from "./_summary.ts";
import { ACTOR, type AuditSink } from "../../src/pipeline/actors.ts";
import { ArbitrageDetector } from "../../src/pipeline/arbitrage.ts";
import { executionLine, signalLine } from "../../src/pipeline/audit.ts";
import { FillSimulator, notionalOf, RiskBook } from "../../src/pipeline/execution.ts";
import { SwapSource } from "../../src/pipeline/market.ts";
import { runPipeline } from "../../src/pipeline/pipeline.ts";

function memorySink(): AuditSink & { text(): string } {
  const lines: string[] = [];
  return { write: (line) => void lines.push(line), text: () => lines.join("") };
}

/** The same computation without actors or a bus: what the pipeline must reproduce. */
function expected(swaps: number, seed: number) {
  const source = new SwapSource({ seed });
  const detector = new ArbitrageDetector();
  const risk = new RiskBook();
  const sim = new FillSimulator();
  let audit = "";
  let fills = 0;
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
    }
    audit += signalLine(signal) + executionLine(execution);
  }
  return { audit, signals: detector.signals, fills, pnl };
}

Deno.test("the pipeline on a MessageBus produces exactly the audit trail of the plain computation", async () => {
  const sink = memorySink();
  const summary = await runPipeline({ audit: sink, swaps: 3_000, seed: 3 });
  const want = expected(3_000, 3);
  assert.ok(want.signals > 50, "the market should produce signals");
  assert.equal(summary.completed, true);
  assert.equal(summary.swaps, 3_000);
  assert.equal(summary.signals, want.signals);
  assert.equal(summary.fills, want.fills);
  assert.equal(summary.pnlMicro, want.pnl);
  assert.equal(sink.text(), want.audit);
  assert.equal(summary.auditLines, 2 * want.signals);
  const byName = new Map(summary.actors.map((a) => [a.name, a]));
  assert.equal(byName.get(ACTOR.relay)?.handled, 3_001, "every swap plus the end marker");
  assert.equal(byName.get(ACTOR.metrics)?.handled, 3_000 + want.signals);
  for (const a of summary.actors) assert.equal(a.failed + a.dropped + a.discarded, 0, a.name);
  assert.equal(summary.shutdown.drained, true);
});

Deno.test("the pipeline gives the same results in faithful mode (every message through the codec)", async () => {
  const plain = memorySink();
  const faithful = memorySink();
  const a = await runPipeline({ audit: plain, swaps: 2_000, seed: 11 });
  const b = await runPipeline({ audit: faithful, swaps: 2_000, seed: 11, faithful: true });
  assert.deepEqual(deterministicPart(b), deterministicPart(a));
  assert.equal(faithful.text(), plain.text());
});

Deno.test("a replayed swap file gives the same run as the generator it was recorded from", async () => {
  const source = new SwapSource({ seed: 4 });
  const swaps = Array.from({ length: 1_500 }, () => source.next());
  const live = memorySink();
  const replay = memorySink();
  const a = await runPipeline({ audit: live, swaps: 1_500, seed: 4 });
  const b = await runPipeline({ audit: replay, replay: swaps });
  assert.deepEqual(deterministicPart(b), deterministicPart(a));
  assert.equal(replay.text(), live.text());
});

Deno.test("stopping a run early reports it as incomplete and accounts for every message", async () => {
  const controller = new AbortController();
  let lines = 0;
  const sink: AuditSink = {
    write: () => {
      if (++lines === 20) controller.abort();
    },
  };
  const summary = await runPipeline({ audit: sink, swaps: 50_000, signal: controller.signal });
  assert.equal(summary.completed, false);
  assert.ok(summary.swaps < 50_000);
  // Whatever was queued when the bus closed is counted, never silently lost.
  const relay = summary.actors.find((a) => a.name === ACTOR.relay);
  assert.ok(relay !== undefined);
  assert.equal(relay.handled + relay.discarded + relay.dropped, summary.swaps);
});
