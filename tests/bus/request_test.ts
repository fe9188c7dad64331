/**
 * Request/reply: typed replies, deadlines, failures, aborts. Plain and faithful.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, type ActorFailure, on } from "../../src/actor/mod.ts";
import { BusError, RequestTimeoutError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { Answer, Ask, gate, Tick, tick } from "./_messages.ts";

const doubler: Actor = {
  handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))],
};

function code(expected: string) {
  return (e: unknown) => e instanceof BusError && e.code === expected;
}

for (const faithful of [false, true]) {
  const mode = faithful ? " (faithful)" : "";

  Deno.test(`MessageBus${mode}: request resolves with the typed reply`, async () => {
    await using bus = new MessageBus({ faithful });
    bus.spawn("doubler", doubler);
    const answers = await Promise.all(
      [1, 2, 3].map((n) => bus.request("doubler", Ask, { n }, { reply: Answer })),
    );
    assert.deepEqual(answers.map((a) => a.n), [2, 4, 6]);
    assert.equal(bus.stats().pendingRequests, 0);
  });

  Deno.test(`MessageBus${mode}: an actor can request from another actor`, async () => {
    await using bus = new MessageBus({ faithful });
    const got = gate<number>();
    bus.spawn("doubler", doubler);
    bus.spawn("asker", {
      handlers: [
        on(Tick, async (m, ctx) => {
          const a = await ctx.request("doubler", Ask, { n: m.seq }, {
            reply: Answer,
            timeoutMs: 1000,
          });
          got.open(a.n);
        }),
      ],
    });
    await bus.send("asker", Tick, tick(21));
    assert.equal(await got.promise, 42);
  });

  Deno.test(`MessageBus${mode}: no reply in time rejects with RequestTimeoutError`, async () => {
    await using bus = new MessageBus({ faithful });
    const hold = gate();
    bus.spawn("sleepy", {
      handlers: [
        on(Ask, async (q, ctx) => {
          await hold.promise;
          ctx.reply(Answer, { n: q.n });
        }),
      ],
    });
    const err = await bus.request("sleepy", Ask, { n: 1 }, { reply: Answer, timeoutMs: 20 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RequestTimeoutError);
    assert.equal(err.code, "BUS_REQUEST_TIMEOUT");
    assert.equal(err.actor, "sleepy");
    assert.equal(err.messageType, "Ask");
    assert.equal(err.timeoutMs, 20);
    hold.open();
    await bus.idle(); // the late reply is ignored, nothing throws
    assert.equal(bus.stats().pendingRequests, 0);
  });

  Deno.test(`MessageBus${mode}: a handler that finishes without replying fails the request`, async () => {
    await using bus = new MessageBus({ faithful });
    bus.spawn("mute", { handlers: [on(Ask, () => {})] });
    await assert.rejects(
      bus.request("mute", Ask, { n: 1 }, { reply: Answer }),
      code("BUS_NO_REPLY"),
    );
  });

  Deno.test(`MessageBus${mode}: a throwing handler fails the request with the cause`, async () => {
    const failures: ActorFailure[] = [];
    await using bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
    bus.spawn("broken", {
      handlers: [on(Ask, () => {
        throw new Error("no can do");
      })],
    });
    const err = await bus.request("broken", Ask, { n: 1 }, { reply: Answer }).catch((e: unknown) =>
      e
    );
    assert.ok(err instanceof BusError);
    assert.equal(err.code, "BUS_HANDLER_FAILED");
    assert.equal((err.cause as Error).message, "no can do");
    assert.equal(failures[0]?.actor, "broken");
    await bus.idle();
  });

  Deno.test(`MessageBus${mode}: a reply of the wrong type is refused`, async () => {
    await using bus = new MessageBus({ faithful });
    bus.spawn("confused", { handlers: [on(Ask, (q, ctx) => ctx.reply(Ask, { n: q.n }))] });
    await assert.rejects(
      bus.request("confused", Ask, { n: 1 }, { reply: Answer }),
      code("BUS_REPLY_TYPE"),
    );
  });

  Deno.test(`MessageBus${mode}: an aborted signal rejects the request with BUS_ABORTED`, async () => {
    await using bus = new MessageBus({ faithful });
    const hold = gate();
    bus.spawn("sleepy", {
      handlers: [on(Ask, async (q, ctx) => {
        await hold.promise;
        ctx.reply(Answer, q);
      })],
    });
    const controller = new AbortController();
    const pending = bus.request("sleepy", Ask, { n: 1 }, {
      reply: Answer,
      signal: controller.signal,
    });
    controller.abort(new Error("user gave up"));
    await assert.rejects(pending, code("BUS_ABORTED"));
    await assert.rejects(
      bus.request("sleepy", Ask, { n: 1 }, { reply: Answer, signal: controller.signal }),
      code("BUS_ABORTED"),
    );
    hold.open();
    await bus.idle();
  });
}

Deno.test("MessageBus: a request to an unknown actor rejects with BUS_NO_ROUTE", async () => {
  await using bus = new MessageBus();
  await assert.rejects(
    bus.request("nobody", Ask, { n: 1 }, { reply: Answer }),
    code("BUS_NO_ROUTE"),
  );
});

Deno.test("MessageBus: a request the actor cannot handle rejects with BUS_NO_HANDLER", async () => {
  await using bus = new MessageBus();
  bus.spawn("doubler", doubler);
  await assert.rejects(
    bus.request("doubler", Tick, tick(1), { reply: Answer }),
    code("BUS_NO_HANDLER"),
  );
});

Deno.test("MessageBus: reply outside a request is a BUS_NOT_A_REQUEST failure", async () => {
  const failures: ActorFailure[] = [];
  await using bus = new MessageBus({ onFailure: (f) => failures.push(f) });
  bus.spawn("eager", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, q))] }, {
    supervision: { strategy: "stop" },
  });
  await bus.send("eager", Ask, { n: 1 });
  await bus.idle();
  assert.equal(failures.length, 1);
  assert.ok(failures[0]!.error instanceof BusError);
  assert.equal((failures[0]!.error as BusError).code, "BUS_NOT_A_REQUEST");
});

Deno.test("MessageBus: an invalid timeout is refused with BUS_INVALID_OPTION", async () => {
  await using bus = new MessageBus();
  bus.spawn("doubler", doubler);
  await assert.rejects(
    bus.request("doubler", Ask, { n: 1 }, { reply: Answer, timeoutMs: -5 }),
    code("BUS_INVALID_OPTION"),
  );
});
