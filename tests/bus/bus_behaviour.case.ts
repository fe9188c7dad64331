/**
 * The behaviour both buses share, run against every implementation:
 * delivery to every route target, per-actor order, by-reference sharing where
 * the mode promises it, isolation of throwing handlers, publish and send from
 * handlers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MessageType } from "../../src/codec/mod.ts";
import { type Actor, type ActorFailure, type Context, on } from "../../src/actor/mod.ts";
import { type Tick, Tick as TickType, tick, Tock } from "./_messages.ts";

/** What a suite run needs from a bus. */
export interface Harness {
  /** Whether local subscribers get the very object published. */
  readonly sharesObjects: boolean;
  /** Registers an actor under a name. */
  add(name: string, actor: Actor): void;
  /** Declares that `actors` (in order) receive published `type`. */
  route(type: MessageType, actors: readonly Actor[]): void;
  /** Starts the bus. */
  start(): Promise<void>;
  /** Publishes from outside an actor. */
  publish(type: MessageType, message: Readonly<Record<string, unknown>>): Promise<void>;
  /** Resolves once everything published has been handled. */
  settle(): Promise<void>;
  /** Failures reported so far. */
  readonly failures: ActorFailure[];
  /** Shuts down. */
  close(): Promise<void>;
}

class TickRecorder implements Actor {
  readonly seqs: number[] = [];
  readonly objects: unknown[] = [];
  names: string[] = [];
  readonly handlers = [
    on(TickType, (m, ctx) => {
      this.seqs.push(m.seq);
      this.objects.push(m);
      this.names.push(ctx.name);
    }),
  ];
}

/** Waits for both results only when one of them is a promise (keeps sync handlers sync). */
function both(a: void | Promise<void>, b: void | Promise<void>): void | Promise<void> {
  if (a === undefined && b === undefined) return;
  return Promise.all([a, b]).then(() => {});
}

/** Registers the shared behaviour tests for one bus implementation. */
export function busBehaviourSuite(label: string, make: () => Harness): void {
  Deno.test(`${label}: every route target receives every message, in publish order`, async () => {
    const h = make();
    const a = new TickRecorder();
    const b = new TickRecorder();
    const c = new TickRecorder();
    h.add("a", a);
    h.add("b", b);
    h.add("c", c);
    h.route(TickType, [a, b, c]);
    await h.start();
    for (let i = 0; i < 3000; i++) await h.publish(TickType, tick(i, `n${i}`));
    await h.settle();
    const expected = Array.from({ length: 3000 }, (_, i) => i);
    assert.deepEqual(a.seqs, expected);
    assert.deepEqual(b.seqs, expected);
    assert.deepEqual(c.seqs, expected);
    assert.equal(a.names[0], "a");
    assert.equal(c.names[0], "c");
    await h.close();
  });

  Deno.test(
    `${label}: subscribers get equal content, the same object ${
      make().sharesObjects ? "(shared by reference)" : "(each its own copy)"
    }`,
    async () => {
      const h = make();
      const a = new TickRecorder();
      const b = new TickRecorder();
      h.add("a", a);
      h.add("b", b);
      h.route(TickType, [a, b]);
      await h.start();
      const sent = tick(7, "héllo");
      await h.publish(TickType, sent);
      await h.settle();
      assert.deepEqual(a.objects[0], sent);
      assert.deepEqual(b.objects[0], sent);
      if (h.sharesObjects) {
        assert.equal(a.objects[0], sent);
        assert.equal(b.objects[0], sent);
      } else {
        assert.notEqual(a.objects[0], sent);
        assert.notEqual(a.objects[0], b.objects[0]);
      }
      await h.close();
    },
  );

  Deno.test(`${label}: a throwing handler is reported and does not stop the others`, async () => {
    const h = make();
    const before = new TickRecorder();
    const after = new TickRecorder();
    const seenByThrower: number[] = [];
    const thrower: Actor = {
      handlers: [
        on(TickType, (m) => {
          seenByThrower.push(m.seq);
          if (m.seq === 1) throw new Error("boom on 1");
        }),
      ],
    };
    h.add("before", before);
    h.add("thrower", thrower);
    h.add("after", after);
    h.route(TickType, [before, thrower, after]);
    await h.start();
    for (let i = 0; i < 4; i++) await h.publish(TickType, tick(i));
    await h.settle();
    assert.deepEqual(before.seqs, [0, 1, 2, 3]);
    assert.deepEqual(after.seqs, [0, 1, 2, 3]);
    assert.deepEqual(seenByThrower, [0, 1, 2, 3]);
    assert.equal(h.failures.length, 1);
    const f = h.failures[0]!;
    assert.equal(f.actor, "thrower");
    assert.equal(f.messageType, "Tick");
    assert.equal(f.phase, "handle");
    assert.equal((f.error as Error).message, "boom on 1");
    await h.close();
  });

  Deno.test(`${label}: a handler's publish and send reach the next actors`, async () => {
    const h = make();
    const tocks: number[] = [];
    const direct: number[] = [];
    const relay: Actor = {
      handlers: [
        on(
          TickType,
          (m: Readonly<Tick>, ctx: Context) =>
            both(ctx.publish(Tock, { seq: m.seq * 10 }), ctx.send("sink", Tock, { seq: m.seq })),
        ),
      ],
    };
    const listener: Actor = { handlers: [on(Tock, (m) => void tocks.push(m.seq))] };
    const sink: Actor = { handlers: [on(Tock, (m) => void direct.push(m.seq))] };
    h.add("relay", relay);
    h.add("listener", listener);
    h.add("sink", sink);
    h.route(TickType, [relay]);
    h.route(Tock, [listener]);
    await h.start();
    for (let i = 1; i <= 3; i++) await h.publish(TickType, tick(i));
    await h.settle();
    assert.deepEqual(tocks, [10, 20, 30]);
    assert.deepEqual(direct, [1, 2, 3]);
    await h.close();
  });
}
