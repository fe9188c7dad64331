/**
 * Supervision: restart with fresh state, restart limits, stop, escalate,
 * failing hooks, rejected async handlers. Plain and faithful.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, type ActorFailure, type Context, on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { gate, Tick, tick } from "./_messages.ts";

/** Fails on every Tick whose seq is in `failOn`; counts its starts. */
class Flaky implements Actor {
  static starts = 0;
  readonly seen: number[] = [];
  readonly #failOn: ReadonlySet<number>;
  constructor(failOn: readonly number[]) {
    this.#failOn = new Set(failOn);
  }
  readonly handlers = [
    on(Tick, (m) => {
      this.seen.push(m.seq);
      if (this.#failOn.has(m.seq)) throw new Error(`fail ${m.seq}`);
    }),
  ];
  start(): void {
    Flaky.starts++;
  }
}

for (const faithful of [false, true]) {
  const mode = faithful ? " (faithful)" : "";

  Deno.test(`MessageBus${mode}: a failed actor is restarted from its factory with fresh state`, async () => {
    const failures: ActorFailure[] = [];
    await using bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
    const instances: Flaky[] = [];
    const ref = bus.spawn("flaky", () => {
      const a = new Flaky([1]);
      instances.push(a);
      return a;
    }, { supervision: { strategy: "restart", backoffMs: 1 } });
    for (let i = 0; i < 4; i++) await bus.send("flaky", Tick, tick(i));
    await bus.idle();
    assert.equal(instances.length, 2);
    assert.deepEqual(instances[0]!.seen, [0, 1]);
    assert.deepEqual(instances[1]!.seen, [2, 3]);
    assert.equal(failures.length, 1);
    assert.deepEqual(
      { ...failures[0]!, error: (failures[0]!.error as Error).message },
      {
        actor: "flaky",
        phase: "handle",
        messageType: "Tick",
        error: "fail 1",
        action: "restart",
        restarts: 1,
      },
    );
    assert.equal(ref.stats().restarts, 1);
    assert.equal(ref.stats().failed, 1);
    assert.equal(ref.stats().handled, 3);
  });

  Deno.test(`MessageBus${mode}: restarting the same object calls stop then start again`, async () => {
    await using bus = new MessageBus({ faithful });
    const calls: string[] = [];
    const actor: Actor = {
      handlers: [on(Tick, (m) => {
        calls.push(`tick ${m.seq}`);
        if (m.seq === 0) throw new Error("first");
      })],
      start: () => void calls.push("start"),
      stop: () => void calls.push("stop"),
    };
    bus.spawn("same", actor, { supervision: { strategy: "restart", backoffMs: 0 } });
    await bus.send("same", Tick, tick(0));
    await bus.send("same", Tick, tick(1));
    await bus.idle();
    assert.deepEqual(calls, ["start", "tick 0", "stop", "start", "tick 1"]);
  });

  Deno.test(`MessageBus${mode}: past the restart limit the actor stops and discards its queue`, async () => {
    const failures: ActorFailure[] = [];
    await using bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
    const ref = bus.spawn("doomed", () => new Flaky([0, 1, 2, 3, 4, 5]), {
      supervision: { strategy: "restart", maxRestarts: 2, withinMs: 60_000, backoffMs: 0 },
    });
    for (let i = 0; i < 6; i++) await ref.send(Tick, tick(i));
    await bus.idle();
    assert.deepEqual(failures.map((f) => f.action), ["restart", "restart", "stop"]);
    const stats = ref.stats();
    assert.equal(stats.stopped, true);
    assert.equal(stats.failed, 3);
    assert.equal(stats.discarded, 3);
    assert.throws(
      () => bus.send("doomed", Tick, tick(9)),
      (e: unknown) => e instanceof BusError && e.code === "BUS_NO_ROUTE",
    );
    assert.throws(
      () => ref.send(Tick, tick(9)),
      (e: unknown) => e instanceof BusError && e.code === "BUS_ACTOR_STOPPED",
    );
  });

  Deno.test(`MessageBus${mode}: policy 'stop' stops at the first failure; others keep running`, async () => {
    const failures: ActorFailure[] = [];
    await using bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
    const stopped = gate();
    const fragile: Actor = {
      handlers: [on(Tick, () => {
        throw new Error("fragile");
      })],
      stop: () => stopped.open(),
    };
    const sturdy = new Flaky([]);
    bus.spawn("fragile", fragile, { supervision: { strategy: "stop" } });
    bus.spawn("sturdy", sturdy);
    await bus.publish(Tick, tick(1));
    await bus.publish(Tick, tick(2));
    await stopped.promise;
    await bus.idle();
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.action, "stop");
    assert.deepEqual(sturdy.seen, [1, 2]);
    assert.deepEqual(bus.hostedRoutes().actors, ["sturdy"]);
  });

  Deno.test(`MessageBus${mode}: a rejected async handler is handled like a throw`, async () => {
    const failures: ActorFailure[] = [];
    await using bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
    const seen: number[] = [];
    bus.spawn("async", {
      handlers: [on(Tick, async (m) => {
        await Promise.resolve();
        seen.push(m.seq);
        if (m.seq === 0) throw new Error("async boom");
      })],
    }, { supervision: { strategy: "restart", backoffMs: 0 } });
    await bus.send("async", Tick, tick(0));
    await bus.send("async", Tick, tick(1));
    await bus.idle();
    assert.deepEqual(seen, [0, 1]);
    assert.equal(failures.length, 1);
    assert.equal((failures[0]!.error as Error).message, "async boom");
    assert.equal(failures[0]!.messageType, "Tick");
  });
}

Deno.test("MessageBus: policy 'escalate' hands the failure to onEscalate", async () => {
  const escalated = gate<ActorFailure>();
  await using bus = new MessageBus({ onEscalate: (f) => escalated.open(f) });
  bus.spawn("critical", {
    handlers: [on(Tick, () => {
      throw new Error("fatal");
    })],
  }, { supervision: { strategy: "escalate" } });
  await bus.send("critical", Tick, tick(1));
  const f = await escalated.promise;
  assert.equal(f.actor, "critical");
  assert.equal(f.action, "escalate");
  assert.equal(bus.signal.aborted, false);
});

Deno.test("MessageBus: without onEscalate, an escalated failure shuts the bus down", async () => {
  const bus = new MessageBus();
  const aborted = gate();
  bus.signal.addEventListener("abort", () => aborted.open());
  bus.spawn("critical", {
    handlers: [on(Tick, () => {
      throw new Error("fatal");
    })],
  }, { supervision: { strategy: "escalate" } });
  await bus.send("critical", Tick, tick(1));
  await aborted.promise;
  await bus.close();
  assert.throws(
    () => bus.send("critical", Tick, tick(2)),
    (e: unknown) => e instanceof BusError && e.code === "BUS_CLOSED",
  );
});

Deno.test("MessageBus: a failing start hook is reported and the actor restarted", async () => {
  const failures: ActorFailure[] = [];
  await using bus = new MessageBus({ onFailure: (f) => failures.push(f) });
  let attempts = 0;
  const seen: number[] = [];
  bus.spawn("late", {
    handlers: [on(Tick, (m) => void seen.push(m.seq))],
    start(_ctx: Context) {
      return attempts++ === 0 ? Promise.reject(new Error("not ready")) : undefined;
    },
  }, { supervision: { strategy: "restart", backoffMs: 0 } });
  await bus.send("late", Tick, tick(5));
  await bus.idle();
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.phase, "start");
  assert.equal(failures[0]!.messageType, undefined);
  assert.deepEqual(seen, [5]);
});
