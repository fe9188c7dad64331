/**
 * The same actors give the same results on a MessageBus (plain and
 * faithful) and on a MonolithBus: the README tour's pipeline.
 *
 * @module
 */
import assert from "node:assert/strict";
import { defineMessage, field, type MessageOf } from "../../src/codec/mod.ts";
import { type Actor, on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { MonolithBus } from "../../src/bus/monolith_bus.ts";

const Trade = defineMessage({
  id: 100,
  name: "Trade",
  topic: "market_data",
  fields: { pool: field.u16(), price: field.f64() },
});
type Trade = MessageOf<typeof Trade>;

const Signal = defineMessage({
  id: 101,
  name: "Signal",
  topic: "signals",
  fields: { pool: field.u16(), move: field.f64() },
});

class Strategy implements Actor {
  readonly #last = new Map<number, number>();
  readonly handlers = [
    on(Trade, (trade, ctx) => {
      const before = this.#last.get(trade.pool);
      this.#last.set(trade.pool, trade.price);
      if (before === undefined) return;
      const move = trade.price / before - 1;
      if (Math.abs(move) > 0.01) return ctx.publish(Signal, { pool: trade.pool, move });
    }),
  ];
}

class Executor implements Actor {
  readonly moves: number[] = [];
  readonly handlers = [on(Signal, (s) => void this.moves.push(s.move))];
}

const trade = (i: number): Trade => ({ pool: i % 3, price: 100 + ((i * 7919) % 13) });
const TRADES = 5_000;

async function onMessageBus(faithful: boolean): Promise<number[]> {
  await using bus = new MessageBus({ faithful });
  const executor = new Executor();
  bus.spawn("strategy", () => new Strategy());
  bus.spawn("executor", executor, { mailbox: { capacity: 16 } });
  for (let i = 0; i < TRADES; i++) await bus.publish(Trade, trade(i));
  await bus.idle();
  return executor.moves;
}

async function onMonolithBus(): Promise<number[]> {
  const strategy = new Strategy();
  const executor = new Executor();
  await using mono = new MonolithBus({ actors: { strategy, executor } });
  mono.route(Trade, [strategy]);
  mono.route(Signal, [executor]);
  await mono.start();
  const emit = mono.emitter(Trade);
  for (let i = 0; i < TRADES; i++) await emit(trade(i));
  return executor.moves;
}

Deno.test("the same actors give identical results on MessageBus, faithful MessageBus and MonolithBus", async () => {
  const plain = await onMessageBus(false);
  const faithful = await onMessageBus(true);
  const monolith = await onMonolithBus();
  assert.ok(plain.length > 100, `only ${plain.length} signals`);
  assert.deepEqual(faithful, plain);
  assert.deepEqual(monolith, plain);
});
