import assert from "node:assert/strict";
import { MessageBus } from "../../../src/bus/mod.ts";
import { defineMessage, field } from "../../../src/codec/mod.ts";
import type { Actor } from "../../../src/actor/actor.ts";
import {
  ACTOR,
  ArbitrageStrategy,
  type AuditSink,
  AuditTrail,
  OrderExecutor,
  RiskManager,
} from "../../../examples/trading/actors.ts";
import { u256ToBytes } from "../../../examples/trading/amounts.ts";
import { executionLine, repeatLine, signalLine } from "../../../examples/trading/audit.ts";
import { RiskBook } from "../../../examples/trading/execution.ts";
import { ExecutionLedger } from "../../../examples/trading/ledger.ts";
import {
  ArbitrageSignal,
  OrderExecution,
  RiskCheck,
  RiskVerdict,
  StreamEnd,
} from "../../../examples/trading/messages.ts";
import { type ActorOverride, runTrading, tradingAppWith } from "./_run.ts";

function exec(id: bigint, filled: boolean, pnlMicro = 0n): OrderExecution {
  return {
    opportunityId: id,
    filled,
    fillBps: filled ? 10_000 : 0,
    notionalMicro: filled ? 10n : 0n,
    pnlMicro: filled ? pnlMicro : 0n,
    reason: filled ? "" : "risk: limit",
  };
}

function signal(id: bigint): ArbitrageSignal {
  const path = new Uint8Array(100);
  path.fill(0x10, 0, 20);
  path.fill(0x11, 20, 40);
  const dv = new DataView(path.buffer);
  dv.setFloat64(80, 1.5, true);
  dv.setUint32(88, 120, true);
  dv.setFloat64(92, 3000, true);
  return {
    opportunityId: id,
    path,
    estimatedProfit: u256ToBytes(6_000_000n),
    deadlineBlock: 7n,
  };
}

function memorySink(): AuditSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line) => void lines.push(line) };
}

Deno.test("RiskBook answers a repeated check with the first verdict and reserves nothing more", () => {
  const book = new RiskBook({ maxExposureMicro: 100n });
  const first = book.check({ opportunityId: 1n, notionalMicro: 60n });
  assert.equal(first.approved, true);
  assert.equal(book.exposureMicro, 60n);
  const again = book.check({ opportunityId: 1n, notionalMicro: 60n });
  assert.deepEqual(again, first);
  assert.equal(book.exposureMicro, 60n, "a repeat must not reserve the notional twice");
  // Refused the first time: still refused when asked again, even with room now.
  assert.equal(book.check({ opportunityId: 2n, notionalMicro: 50n }).approved, false);
  book.record(exec(1n, true));
  const exposure = book.exposureMicro;
  assert.ok(exposure + 50n <= 100n, "there is room for id 2 now");
  assert.deepEqual(book.check({ opportunityId: 2n, notionalMicro: 50n }), {
    opportunityId: 2n,
    approved: false,
    halted: false,
  });
  assert.equal(book.exposureMicro, exposure);
  assert.equal(book.repeatedChecks, 2);
  assert.equal(book.repeatedExecutions, 0);
});

Deno.test("RiskBook ignores a repeated execution: P&L, exposure and the halt stay as booked", () => {
  const book = new RiskBook({ maxExposureMicro: 100n, maxLossMicro: 10n, releaseBps: 5_000n });
  book.check({ opportunityId: 1n, notionalMicro: 80n });
  book.check({ opportunityId: 2n, notionalMicro: 20n });
  book.record(exec(1n, true, -6n));
  assert.equal(book.pnlMicro, -6n);
  assert.equal(book.exposureMicro, 50n);
  assert.equal(book.halted, false);
  // Booked again, this loss would cross the limit: the repeat must change nothing.
  book.record(exec(1n, true, -6n));
  assert.equal(book.pnlMicro, -6n);
  assert.equal(book.exposureMicro, 50n);
  assert.equal(book.halted, false);
  assert.equal(book.repeatedExecutions, 1);
  book.record(exec(2n, true, -5n));
  assert.equal(book.pnlMicro, -11n);
  assert.equal(book.halted, true);
});

Deno.test("RiskBook names the approved orders whose execution never came, ascending", () => {
  const book = new RiskBook({ maxExposureMicro: 100n });
  assert.deepEqual(book.approvedUnbooked(), []);
  // Checked out of order, as after a restart; id 4 is refused (over the limit).
  book.check({ opportunityId: 5n, notionalMicro: 10n });
  book.check({ opportunityId: 3n, notionalMicro: 10n });
  book.check({ opportunityId: 1n, notionalMicro: 10n });
  book.check({ opportunityId: 4n, notionalMicro: 500n });
  book.check({ opportunityId: 2n, notionalMicro: 10n });
  assert.deepEqual(book.approvedUnbooked(), [1n, 2n, 3n, 5n]);
  book.record(exec(3n, true));
  book.record(exec(1n, false));
  book.record(exec(4n, false));
  assert.deepEqual(book.approvedUnbooked(), [2n, 5n]);
  book.record(exec(2n, true));
  book.record(exec(5n, true));
  assert.deepEqual(book.approvedUnbooked(), []);
});

Deno.test("ExecutionLedger books each id's first execution and counts the repeats", () => {
  const ledger = new ExecutionLedger();
  assert.equal(ledger.signal(signal(1n)), true);
  assert.equal(ledger.signal(signal(2n)), true);
  assert.equal(ledger.signal(signal(1n)), false);
  assert.equal(ledger.repeatedSignals, 1);
  assert.equal(ledger.execution(exec(1n, true, 7n)), true);
  assert.equal(ledger.execution(exec(2n, false)), true);
  assert.equal(ledger.execution(exec(1n, true, 7n)), false);
  assert.equal(ledger.execution(exec(2n, false)), false);
  assert.equal(ledger.execution(exec(3n, true, -2n)), true);
  assert.deepEqual(ledger.summary(), {
    signalsSent: 0,
    executed: 3,
    fills: 2,
    refused: 1,
    pnlMicro: 5n,
    repeats: 2,
    missing: [],
  });
  ledger.end(3n);
  assert.equal(ledger.summary().signalsSent, 3);
  assert.deepEqual(ledger.summary().missing, []);
});

Deno.test("ExecutionLedger names the ids no execution came for, at the start, middle and end", () => {
  const cases: { booked: bigint[]; sent: bigint; missing: bigint[] }[] = [
    { booked: [1n, 2n, 3n, 4n], sent: 4n, missing: [] },
    { booked: [4n, 2n, 1n, 3n], sent: 4n, missing: [] },
    { booked: [2n, 3n, 4n], sent: 4n, missing: [1n] },
    { booked: [1n, 4n], sent: 4n, missing: [2n, 3n] },
    { booked: [1n, 2n], sent: 4n, missing: [3n, 4n] },
    { booked: [], sent: 3n, missing: [1n, 2n, 3n] },
    // As many ids as were sent, but one outside 1..sent: id 2 is still missing.
    { booked: [1n, 3n, 9n], sent: 3n, missing: [2n] },
    { booked: [0n, 1n, 3n], sent: 3n, missing: [2n] },
  ];
  for (const c of cases) {
    const ledger = new ExecutionLedger();
    for (const id of c.booked) ledger.execution(exec(id, true, 1n));
    ledger.end(c.sent);
    const s = ledger.summary();
    assert.deepEqual(s.missing, c.missing, `booked ${c.booked} of ${c.sent}`);
    assert.equal(s.executed, c.booked.length);
    assert.equal(s.signalsSent, Number(c.sent));
  }
});

Deno.test("a StreamEnd written before `signals` existed reads as zero signals", () => {
  const OldStreamEnd = defineMessage({
    id: 24,
    name: "StreamEnd",
    topic: "control",
    fields: { swaps: field.u64() },
  });
  const end = StreamEnd.decode(OldStreamEnd.toBytes({ swaps: 12n }));
  assert.deepEqual({ ...end }, { swaps: 12n, signals: 0n });
  assert.deepEqual(
    { ...StreamEnd.decode(StreamEnd.toBytes({ swaps: 12n, signals: 5n })) },
    { swaps: 12n, signals: 5n },
  );
});

for (const faithful of [false, true]) {
  const mode = faithful ? " (faithful)" : "";
  Deno.test(`AuditTrail on a MessageBus${mode} marks repeats and its ledger sees StreamEnd's signals`, async () => {
    await using bus = new MessageBus({ faithful });
    const sink = memorySink();
    const ended: bigint[] = [];
    const audit = new AuditTrail(sink, (swaps) => void ended.push(swaps));
    bus.spawn(ACTOR.audit, audit, { subscribe: [OrderExecution] });
    // Signal 1 handled twice (the executor restarted after finishing it), 2 lost, 3 once.
    await bus.send(ACTOR.audit, ArbitrageSignal, signal(1n));
    await bus.publish(OrderExecution, exec(1n, true, 40n));
    await bus.send(ACTOR.audit, ArbitrageSignal, signal(1n));
    await bus.publish(OrderExecution, exec(1n, true, 40n));
    await bus.send(ACTOR.audit, ArbitrageSignal, signal(3n));
    await bus.publish(OrderExecution, exec(3n, false));
    await bus.send(ACTOR.audit, StreamEnd, { swaps: 100n, signals: 3n });
    await bus.idle();
    assert.deepEqual(sink.lines, [
      signalLine(signal(1n)),
      executionLine(exec(1n, true, 40n)),
      repeatLine(signalLine(signal(1n))),
      repeatLine(executionLine(exec(1n, true, 40n))),
      signalLine(signal(3n)),
      executionLine(exec(3n, false)),
    ]);
    assert.match(sink.lines[3] ?? "", /^repeat exec 1 filled=true /);
    assert.equal(audit.lines, 6);
    assert.deepEqual(ended, [100n]);
    assert.deepEqual(audit.ledger.summary(), {
      signalsSent: 3,
      executed: 2,
      fills: 1,
      refused: 1,
      pnlMicro: 40n,
      repeats: 1,
      missing: [2n],
    });
  });

  Deno.test(`RiskManager on a MessageBus${mode} answers a repeated check with the first verdict`, async () => {
    await using bus = new MessageBus({ faithful });
    const risk = new RiskManager({ maxExposureMicro: 100n });
    bus.spawn(ACTOR.risk, risk, { subscribe: [OrderExecution] });
    const ask = (id: bigint, notionalMicro: bigint) =>
      bus.request(ACTOR.risk, RiskCheck, { opportunityId: id, notionalMicro }, {
        reply: RiskVerdict,
        timeoutMs: 5_000,
      });
    assert.equal((await ask(1n, 70n)).approved, true);
    assert.equal((await ask(1n, 70n)).approved, true);
    assert.equal(risk.book.exposureMicro, 70n);
    await bus.publish(OrderExecution, exec(1n, true, 3n));
    await bus.publish(OrderExecution, exec(1n, true, 3n));
    await bus.idle();
    assert.equal(risk.book.pnlMicro, 3n);
    assert.equal(risk.book.repeatedChecks, 1);
    assert.equal(risk.book.repeatedExecutions, 1);
    assert.deepEqual(risk.book.approvedUnbooked(), []);
  });

  Deno.test(`a clean run of the trading app${mode} leaves a ledger that accounts for every signal once`, async () => {
    // Keep the actors the run makes, to look at their books afterwards.
    const made = new Map<string, Actor>();
    const keep = (name: string): ActorOverride => (_env, make) => {
      const actor = make();
      made.set(name, actor);
      return actor;
    };
    const app = tradingAppWith({
      [ACTOR.strategy]: keep(ACTOR.strategy),
      [ACTOR.executor]: keep(ACTOR.executor),
      [ACTOR.risk]: keep(ACTOR.risk),
      [ACTOR.audit]: keep(ACTOR.audit),
    });
    const { total, audit: text } = await runTrading({ app, swaps: 2_000, seed: 7, faithful });
    const strategy = made.get(ACTOR.strategy);
    const executor = made.get(ACTOR.executor);
    const risk = made.get(ACTOR.risk);
    const audit = made.get(ACTOR.audit);
    assert.ok(strategy instanceof ArbitrageStrategy);
    assert.ok(executor instanceof OrderExecutor);
    assert.ok(risk instanceof RiskManager);
    assert.ok(audit instanceof AuditTrail);
    assert.equal(total.completed, true);
    assert.equal(total.app.swaps, 2_000);
    const signals = strategy.detector.signals;
    assert.ok(signals > 20, "the market should produce signals");
    assert.deepEqual(audit.ledger.summary(), {
      signalsSent: signals,
      executed: signals,
      fills: executor.fills,
      refused: executor.refused,
      pnlMicro: executor.pnlMicro,
      repeats: 0,
      missing: [],
    });
    assert.deepEqual(total.app.ledger, audit.ledger.summary());
    assert.equal(audit.ledger.repeatedSignals, 0);
    assert.equal(audit.lines, 2 * signals);
    assert.equal(text.split("\n").filter((l) => l !== "").length, 2 * signals);
    assert.equal(text.split("\n").some((l) => l.startsWith("repeat ")), false);
    assert.equal(risk.book.repeatedChecks, 0);
    assert.equal(risk.book.repeatedExecutions, 0);
    assert.deepEqual(risk.book.approvedUnbooked(), []);
    assert.deepEqual(total.app.approvedUnbooked, []);
  });
}
