/**
 * MonolithBus specifics: synchronous in-order calls, async targets through
 * mailboxes, route validation, hybrid use with a MessageBus.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, type ActorFailure, on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { MonolithBus } from "../../src/bus/monolith_bus.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "./_messages.ts";

function code(expected: string) {
  return (e: unknown) => e instanceof BusError && e.code === expected;
}

class Logging implements Actor {
  readonly #log: string[];
  readonly #tag: string;
  constructor(log: string[], tag: string) {
    this.#log = log;
    this.#tag = tag;
  }
  readonly handlers = [on(Tick, (m) => void this.#log.push(`${this.#tag}${m.seq}`))];
}

Deno.test("MonolithBus: emit calls every sync handler before returning, in route order", async () => {
  const log: string[] = [];
  const a = new Logging(log, "a");
  const b = new Logging(log, "b");
  const c = new Logging(log, "c");
  await using mono = new MonolithBus({ actors: { a, b, c } });
  mono.route(Tick, [c, a, b]);
  await mono.start();
  const emit = mono.emitter(Tick);
  assert.equal(emit(tick(1)), undefined);
  assert.deepEqual(log, ["c1", "a1", "b1"]);
  emit(tick(2));
  assert.deepEqual(log, ["c1", "a1", "b1", "c2", "a2", "b2"]);
});

Deno.test("MonolithBus: async targets run through their mailbox, after emit returns", async () => {
  const log: string[] = [];
  const fast = new Logging(log, "sync");
  const slow = new Logging(log, "async");
  await using mono = new MonolithBus({ actors: { fast, slow } });
  mono.route(Tick, [fast], [slow]);
  await mono.start();
  const emit = mono.emitter(Tick);
  emit(tick(1));
  emit(tick(2));
  assert.deepEqual(log, ["sync1", "sync2"]);
  await mono.bus.idle();
  assert.deepEqual(log, ["sync1", "sync2", "async1", "async2"]);
});

Deno.test("MonolithBus: a rejecting sync handler is reported; a throwing one does not stop the rest", async () => {
  const failures: ActorFailure[] = [];
  const reported = gate();
  const log: string[] = [];
  const rejecting: Actor = {
    handlers: [on(Tick, () => Promise.reject(new Error("later")))],
  };
  const throwing: Actor = {
    handlers: [on(Tick, () => {
      throw new Error("now");
    })],
  };
  const last = new Logging(log, "last");
  await using mono = new MonolithBus({
    actors: { rejecting, throwing, last },
    onFailure: (f) => {
      failures.push(f);
      if (failures.length === 2) reported.open();
    },
  });
  mono.route(Tick, [rejecting, throwing, last]);
  await mono.start();
  mono.emitter(Tick)(tick(1));
  assert.deepEqual(log, ["last1"]);
  await reported.promise;
  assert.deepEqual(
    failures.map((f) => [f.actor, f.messageType, (f.error as Error).message, f.action]).sort(),
    [["rejecting", "Tick", "later", "resume"], ["throwing", "Tick", "now", "resume"]],
  );
});

Deno.test("MonolithBus: invalid routes are refused with typed errors", async () => {
  const log: string[] = [];
  const a = new Logging(log, "a");
  const stranger = new Logging(log, "s");
  await using mono = new MonolithBus({ actors: { a } });
  assert.throws(() => mono.route(Tick, [stranger]), code("BUS_INVALID_OPTION"));
  mono.route(Tick, [a]);
  assert.throws(() => mono.route(Tick, [a]), code("BUS_INVALID_OPTION"));
  assert.throws(() => mono.add("a", new Logging(log, "x")), code("BUS_DUPLICATE_NAME"));
  // A handler missing at run time (types bypassed) is still caught.
  assert.throws(() => mono.route(Tock, [a] as never), code("BUS_NO_HANDLER"));
  assert.throws(() => mono.emitter(Tick), code("BUS_INVALID_OPTION"));
  await mono.start();
  assert.throws(() => mono.emitter(Tock), code("BUS_NO_ROUTE"));
  assert.throws(() => mono.route(Ask, []), code("BUS_INVALID_OPTION"));
});

Deno.test("MonolithBus: an actor cannot be both a sync and an async target", () => {
  const log: string[] = [];
  const both: Actor = {
    handlers: [on(Tick, () => {}), on(Tock, () => void log.push("tock"))],
  };
  const mono = new MonolithBus({ actors: { both } });
  mono.route(Tick, [both]);
  assert.throws(() => mono.route(Tock, [], [both]), code("BUS_INVALID_OPTION"));
});

Deno.test("MonolithBus: emitting after close is refused with BUS_CLOSED", async () => {
  const log: string[] = [];
  const a = new Logging(log, "a");
  const mono = new MonolithBus({ actors: { a } });
  mono.route(Tick, [a]);
  await mono.start();
  const emit = mono.emitter(Tick);
  await mono.close();
  assert.throws(() => emit(tick(1)), code("BUS_CLOSED"));
  assert.deepEqual(log, []);
});

Deno.test("MonolithBus: start and stop hooks of sync members run once", async () => {
  const calls: string[] = [];
  const a: Actor = {
    handlers: [on(Tick, () => {})],
    start: (ctx) => void calls.push(`start ${ctx.name}`),
    stop: (ctx) => void calls.push(`stop ${ctx.name}`),
  };
  const mono = new MonolithBus({ actors: { a } });
  mono.route(Tick, [a]);
  await mono.start();
  await mono.start();
  await mono.close();
  await mono.close();
  assert.deepEqual(calls, ["start a", "stop a"]);
});

Deno.test("MonolithBus + MessageBus (hybrid): messages flow both ways in one process", async () => {
  await using bus = new MessageBus();
  const ticksSeenByBusActor: number[] = [];
  const tocksSeenByMono: number[] = [];
  // The hot path, in the monolith: turns Ticks into Tocks.
  const strategy: Actor = {
    handlers: [
      on(Tick, (m, ctx) => ctx.publish(Tock, { seq: m.seq * 10 })),
      on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n + 1 })),
    ],
  };
  const monoListener: Actor = { handlers: [on(Tock, (m) => void tocksSeenByMono.push(m.seq))] };
  // Infrastructure on the bus: an auditor of Tocks and a Tick source.
  const audited: number[] = [];
  bus.spawn("auditor", { handlers: [on(Tock, (m) => void audited.push(m.seq))] });
  bus.spawn("bus-listener", { handlers: [on(Tick, (m) => void ticksSeenByBusActor.push(m.seq))] });
  const mono = new MonolithBus({ bus, actors: { strategy, monoListener } });
  mono.route(Tick, [strategy]);
  mono.route(Tock, [monoListener]);
  await mono.start();

  // 1. A Tick published on the bus reaches the monolith route (and the bus listener).
  await bus.publish(Tick, tick(1));
  await bus.idle();
  assert.deepEqual(ticksSeenByBusActor, [1]);
  assert.deepEqual(tocksSeenByMono, [10]);
  assert.deepEqual(audited, [10], "the monolith's publish reached the bus subscriber");

  // 2. A Tick emitted in the monolith reaches the bus listener too.
  mono.emitter(Tick)(tick(2));
  assert.deepEqual(tocksSeenByMono, [10, 20]);
  await bus.idle();
  assert.deepEqual(ticksSeenByBusActor, [1, 2]);
  assert.deepEqual(audited, [10, 20]);

  // 3. Sync members are reachable by name from the bus, requests included.
  const answer = await bus.request("strategy", Ask, { n: 41 }, { reply: Answer });
  assert.equal(answer.n, 42);
  await mono.close();
});

Deno.test("MonolithBus + MessageBus: a sync member failing for a bus sender stays reachable", async () => {
  const failures: ActorFailure[] = [];
  await using bus = new MessageBus({ onFailure: (f) => failures.push(f) });
  const seen: number[] = [];
  const picky: Actor = {
    handlers: [on(Tick, (m) => {
      if (m.seq === 1) throw new Error("not 1");
      seen.push(m.seq);
    })],
  };
  const mono = new MonolithBus({ bus, actors: { picky } });
  mono.route(Tick, [picky]);
  await mono.start();
  await bus.send("picky", Tick, tick(1));
  await bus.idle();
  await bus.send("picky", Tick, tick(2));
  await bus.idle();
  assert.deepEqual(seen, [2]);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.actor, "picky");
  assert.equal(failures[0]!.messageType, "Tick");
  await mono.close();
});

Deno.test("MonolithBus: a sync target gets a bus sender's routed and unrouted messages in order", async () => {
  await using bus = new MessageBus();
  const seen: string[] = [];
  const target: Actor = {
    handlers: [
      on(Tick, (m) => void seen.push(`tick ${m.seq}`)),
      on(Tock, (m) => void seen.push(`tock ${m.seq}`)),
    ],
  };
  const mono = new MonolithBus({ bus, actors: { target } });
  mono.route(Tick, [target]);
  await mono.start();
  // More than one drain batch of routed messages, then one the route does not cover, by name.
  bus.spawn("producer", {
    handlers: [],
    start(ctx) {
      // In one go (a mailbox holds 1024): everything is queued before any is handled.
      for (let i = 1; i <= 1000; i++) assert.equal(ctx.publish(Tick, tick(i)), undefined);
      return ctx.send("target", Tock, { seq: 0 });
    },
  });
  await bus.idle();
  assert.equal(seen.length, 1001);
  assert.equal(seen.at(-1), "tock 0", "the later message came after every earlier one");
  assert.deepEqual(seen.slice(0, 3), ["tick 1", "tick 2", "tick 3"]);
  await mono.close();
});

Deno.test("MonolithBus: a sync target that emits its own type is not re-entered", async () => {
  let depth = 0;
  let deepest = 0;
  const order: number[] = [];
  const echo: Actor = {
    handlers: [
      on(Tick, (m, ctx) => {
        depth++;
        deepest = Math.max(deepest, depth);
        order.push(m.seq);
        if (m.seq < 5) ctx.publish(Tick, tick(m.seq + 1));
        depth--;
      }),
    ],
  };
  await using mono = new MonolithBus({ actors: { echo } });
  mono.route(Tick, [echo]);
  await mono.start();
  mono.emit(Tick, tick(1));
  await mono.bus.idle();
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
  assert.equal(deepest, 1, "each call finished before the next began");
  // The first call was direct; the ones it emitted went through its mailbox.
  assert.equal(mono.directStats("echo")?.calls, 1);
  assert.equal(mono.bus.actorStats().find((a) => a.name === "echo")?.handled, 4);
});

Deno.test("MonolithBus: a bus actor's publish of a routed type calls a quiet target directly", async () => {
  await using bus = new MessageBus();
  const seen: number[] = [];
  const target: Actor = { handlers: [on(Tick, (m) => void seen.push(m.seq))] };
  const mono = new MonolithBus({ bus, actors: { target } });
  mono.route(Tick, [target]);
  await mono.start();
  bus.spawn("producer", {
    handlers: [],
    start(ctx) {
      for (let i = 1; i <= 10; i++) {
        assert.equal(ctx.publish(Tick, tick(i)), undefined);
        assert.equal(seen.length, i, "handled inside the publish");
      }
    },
  });
  await bus.idle();
  assert.equal(mono.directStats("target")?.calls, 10);
  await mono.close();
});

Deno.test("MonolithBus: a sync target whose handler awaits takes the next message only after it settles", async () => {
  let running = 0;
  let most = 0;
  const finished: number[] = [];
  const allDone = Promise.withResolvers<void>();
  const slow: Actor = {
    handlers: [
      on(Tick, async (m) => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => queueMicrotask(resolve));
        await Promise.resolve();
        finished.push(m.seq);
        running--;
        if (finished.length === 5) allDone.resolve();
      }),
    ],
  };
  await using mono = new MonolithBus({ actors: { slow } });
  mono.route(Tick, [slow]);
  await mono.start();
  const emit = mono.emitter(Tick);
  for (let i = 0; i < 5; i++) await emit(tick(i));
  await allDone.promise;
  assert.deepEqual(finished, [0, 1, 2, 3, 4]);
  assert.equal(most, 1, "one message at a time");
});

Deno.test("MonolithBus: a target called directly off the fast path stays busy while its handler awaits", async () => {
  // Another member's pending handler keeps the fast path off, so the route serves its target
  // on its own (and a member's send does the same): the target's first handler must still be
  // running alone when the second message comes.
  let running = 0;
  let most = 0;
  const first = gate();
  const other = gate();
  const target: Actor = {
    handlers: [
      on(Tick, async () => {
        running++;
        most = Math.max(most, running);
        await first.promise;
        running--;
      }),
    ],
  };
  const busy: Actor = { handlers: [on(Tock, () => other.promise)] };
  await using mono = new MonolithBus({ actors: { target, busy } });
  mono.route(Tick, [target]);
  mono.route(Tock, [busy]);
  await mono.start();
  await mono.emit(Tock, { seq: 0 });
  await mono.emit(Tick, tick(1));
  await mono.emit(Tick, tick(2));
  assert.equal(most, 1, "one message at a time");
  first.open();
  other.open();
  await mono.bus.idle();
  assert.equal(most, 1);
  // The first directly, the second through its mailbox behind it.
  assert.equal(mono.directStats("target")?.calls, 1);
});

Deno.test("MonolithBus: a bus actor's request to an idle sync member is answered inside the call", async () => {
  await using bus = new MessageBus();
  const handled: number[] = [];
  const risk: Actor = {
    handlers: [on(Ask, (q, ctx) => {
      handled.push(q.n);
      ctx.reply(Answer, { n: q.n * 2 });
    })],
  };
  const mono = new MonolithBus({ bus, actors: { risk } });
  mono.route(Ask, [risk]);
  await mono.start();
  const answers: number[] = [];
  bus.spawn("asker", {
    handlers: [on(Tick, async (m, ctx) => {
      const reply = ctx.request("risk", Ask, { n: m.seq }, { reply: Answer });
      // Answered before request() returned: no turn of the bus in between.
      assert.deepEqual(handled.at(-1), m.seq);
      answers.push((await reply).n);
    })],
  });
  for (let i = 1; i <= 3; i++) await bus.send("asker", Tick, tick(i));
  await bus.idle();
  assert.deepEqual(answers, [2, 4, 6]);
  assert.equal(mono.directStats("risk")?.calls, 3);
  assert.equal(mono.bus.actorStats().find((a) => a.name === "risk")?.handled, 0, "none queued");
  await mono.close();
});

Deno.test("MonolithBus: a request answered by a direct call fails as its mailbox would fail it", async () => {
  const failures: ActorFailure[] = [];
  await using bus = new MessageBus({ onFailure: (f) => failures.push(f) });
  let secondReply: unknown;
  const member: Actor = {
    handlers: [on(Ask, (q, ctx) => {
      if (q.n === 1) return; // no reply
      if (q.n === 2) throw new Error("two is refused");
      // deno-lint-ignore no-throw-literal
      if (q.n === 5) throw undefined;
      if (q.n === 3) {
        return (async () => {
          await Promise.resolve();
          ctx.reply(Answer, { n: 30 });
          try {
            ctx.reply(Answer, { n: 31 });
          } catch (e) {
            secondReply = e;
          }
        })();
      }
      return Promise.resolve().then(() => {
        throw new Error("four fails later");
      });
    })],
  };
  const mono = new MonolithBus({ bus, actors: { member } });
  mono.route(Ask, [member]);
  await mono.start();
  // Each waits until the last one's handler has settled, so the member is idle: a direct call.
  const ask = async (n: number) => {
    await bus.idle();
    return await bus.request("member", Ask, { n }, { reply: Answer, timeoutMs: 1_000 });
  };
  await assert.rejects(ask(1), code("BUS_NO_REPLY"));
  await assert.rejects(ask(2), (e: unknown) => {
    assert.ok(e instanceof BusError && e.code === "BUS_HANDLER_FAILED");
    assert.match(String((e.cause as Error).message), /two is refused/);
    return true;
  });
  assert.equal((await ask(3)).n, 30);
  assert.ok(secondReply instanceof BusError && secondReply.code === "BUS_NOT_A_REQUEST");
  await assert.rejects(ask(4), code("BUS_HANDLER_FAILED"));
  // Every one was a direct call; the two failures were reported, and it still answers.
  assert.equal(mono.directStats("member")?.calls, 4);
  assert.equal(mono.directStats("member")?.failed, 2);
  assert.deepEqual(failures.map((f) => [f.actor, f.messageType, f.action]), [
    ["member", "Ask", "resume"],
    ["member", "Ask", "resume"],
  ]);
  assert.equal((await ask(3)).n, 30);
  // A throw of undefined is a failure too, not a missing reply.
  await assert.rejects(ask(5), code("BUS_HANDLER_FAILED"));
  assert.equal(mono.directStats("member")?.failed, 3);
  assert.equal(failures.length, 3);
  await mono.close();
});

Deno.test("MonolithBus: a request to a busy sync member waits in its mailbox, behind what came first", async () => {
  await using bus = new MessageBus();
  const order: string[] = [];
  const release = gate();
  const member: Actor = {
    handlers: [
      on(Tick, async (m) => {
        order.push(`tick ${m.seq}`);
        await release.promise;
      }),
      on(Ask, (q, ctx) => {
        order.push(`ask ${q.n}`);
        ctx.reply(Answer, { n: q.n });
      }),
    ],
  };
  const mono = new MonolithBus({ bus, actors: { member } });
  mono.route(Tick, [member]);
  await mono.start();
  mono.emit(Tick, tick(1)); // direct; its handler now waits on the gate
  const answer = bus.request("member", Ask, { n: 7 }, { reply: Answer });
  assert.deepEqual(order, ["tick 1"], "the request did not run while the member was busy");
  release.open();
  assert.equal((await answer).n, 7);
  assert.deepEqual(order, ["tick 1", "ask 7"]);
  assert.equal(mono.directStats("member")?.calls, 1, "only the Tick was a direct call");
  await mono.close();
});

Deno.test("MonolithBus: the bus is idle only once a directly called member's pending handler settles", async () => {
  await using bus = new MessageBus();
  const release = gate();
  let finished = false;
  const member: Actor = {
    handlers: [on(Tick, async () => {
      await release.promise;
      finished = true;
    })],
  };
  const mono = new MonolithBus({ bus, actors: { member } });
  mono.route(Tick, [member]);
  await mono.start();
  await bus.send("member", Tick, tick(1));
  assert.equal(mono.directStats("member")?.calls, 1, "a direct call");
  // What idle() sees when it resolves: the handler must have finished by then.
  const finishedAtIdle = bus.idle().then(() => finished);
  // A turn of the event loop, so that an idle() blind to the pending handler resolves first.
  await new Promise((resolve) => setTimeout(resolve, 0));
  release.open();
  assert.equal(await finishedAtIdle, true, "idle() waited for the pending handler");
  assert.ok(finished);
  await mono.close();
});
