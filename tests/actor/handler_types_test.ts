/**
 * Type-level guarantees, checked by `deno check` (each `@ts-expect-error`
 * fails the check if the line it marks type-checks), plus the runtime shape
 * of handlers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, consumedTypes, type Context, on } from "../../src/actor/mod.ts";
import { MonolithBus } from "../../src/bus/monolith_bus.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";

class Strategy implements Actor {
  last = 0n;
  readonly handlers = [
    on(V2Swap, (swap) => {
      this.last = swap.timestampNs; // swap: Readonly<V2Swap>
      // @ts-expect-error shared messages are readonly
      swap.timestampNs = 0n;
    }),
  ];
}

class Executor implements Actor {
  readonly handlers = [
    on(ArbitrageSignal, (signal: Readonly<ArbitrageSignal>) => void signal.opportunityId),
  ];
}

Deno.test("on() infers the message type from the message type object", () => {
  // @ts-expect-error a V2Swap handler cannot take an ArbitrageSignal
  on(V2Swap, (signal: Readonly<ArbitrageSignal>) => void signal);
  // @ts-expect-error a field that V2Swap does not have
  on(V2Swap, (swap) => void swap.opportunityId);
  const h = on(ArbitrageSignal, (s) => void s.deadlineBlock);
  assert.equal(h.type, ArbitrageSignal);
  assert.deepEqual(consumedTypes(new Strategy()), [V2Swap]);
});

Deno.test("Context methods check the message against its type", async () => {
  await using bus = new MessageBus();
  const check = (ctx: Context) => {
    // @ts-expect-error a V2Swap is not an ArbitrageSignal
    void ctx.send("executor", ArbitrageSignal, { timestampNs: 1n });
    // @ts-expect-error publish checks the message too
    void ctx.publish(V2Swap, { opportunityId: 1n });
  };
  const ask = async (ctx: Context, swap: Readonly<V2Swap>) => {
    const signal = await ctx.request("pricer", V2Swap, swap, { reply: ArbitrageSignal });
    void signal.opportunityId;
    // @ts-expect-error the reply is an ArbitrageSignal, not a V2Swap
    void signal.timestampNs;
    // @ts-expect-error the reply type is required
    await ctx.request("pricer", V2Swap, swap, { timeoutMs: 5 });
  };
  assert.equal(typeof check, "function");
  assert.equal(typeof ask, "function");
  // @ts-expect-error bus.send checks the message too
  assert.throws(() => bus.send("nobody", V2Swap, { seq: 1 }));
});

Deno.test("MonolithBus routes only accept actors that handle the routed type", () => {
  const strategy = new Strategy();
  const executor = new Executor();
  const mono = new MonolithBus({ actors: { strategy, executor } });
  mono.route(V2Swap, [strategy]);
  mono.route(ArbitrageSignal, [executor]);
  const other = new MonolithBus({ actors: { strategy, executor } });
  // @ts-expect-error Executor has no V2Swap handler
  assert.throws(() => other.route(V2Swap, [strategy, executor]));
  // @ts-expect-error async targets are checked the same way
  assert.throws(() => other.route(ArbitrageSignal, [executor], [strategy]));
});
