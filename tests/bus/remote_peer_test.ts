/**
 * The RemotePeer seam: two buses joined by an in-memory link that copies
 * every message through the codec, as a socket link would.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MessageType } from "../../src/codec/mod.ts";
import { on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import type { AnyMessage, RemotePeer } from "../../src/bus/remote_peer.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "./_messages.ts";

/** One direction of an in-memory link: what `local` calls to reach `remote`. */
class LoopbackPeer implements RemotePeer {
  readonly id: string;
  readonly #remote: MessageBus;
  /** The peer object the remote bus uses to answer us. */
  back: RemotePeer | undefined;
  sent = 0;

  constructor(id: string, remote: MessageBus) {
    this.id = id;
    this.#remote = remote;
  }

  #copy(type: MessageType, message: AnyMessage): AnyMessage {
    this.sent++;
    return type.decode(type.toBytes(message));
  }

  send(to: string, type: MessageType, message: AnyMessage, requestId: number) {
    return this.#remote.deliver(this.back!, to, type, this.#copy(type, message), requestId);
  }
  publish(type: MessageType, message: AnyMessage) {
    return this.#remote.deliverPublished(type, this.#copy(type, message));
  }
  reply(requestId: number, type: MessageType, message: AnyMessage) {
    this.#remote.deliverReply(requestId, type, this.#copy(type, message));
  }
  fail(requestId: number, code: string, message: string) {
    this.#remote.deliverFailure(requestId, code, message);
  }
}

/** Links `a` and `b` both ways and exchanges routes, as a link's handshake would. */
function link(a: MessageBus, b: MessageBus): { toB: LoopbackPeer; toA: LoopbackPeer } {
  const toB = new LoopbackPeer("process-b", b);
  const toA = new LoopbackPeer("process-a", a);
  toB.back = toA;
  toA.back = toB;
  a.attach(toB, b.hostedRoutes());
  b.attach(toA, a.hostedRoutes());
  return { toB, toA };
}

Deno.test("MessageBus: send by name reaches an actor behind a link, in order", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  const seen: number[] = [];
  b.spawn("remote-sink", { handlers: [on(Tick, (m) => void seen.push(m.seq))] });
  const { toB } = link(a, b);
  for (let i = 0; i < 100; i++) await a.send("remote-sink", Tick, tick(i));
  await b.idle();
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  assert.equal(toB.sent, 100);
});

Deno.test("MessageBus: publish reaches local and remote subscribers, once each", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  const local: number[] = [];
  const remote: number[] = [];
  const topical: number[] = [];
  a.spawn("local", { handlers: [on(Tick, (m) => void local.push(m.seq))] });
  b.spawn("remote", { handlers: [on(Tick, (m) => void remote.push(m.seq))] });
  b.spawn("by-topic", { handlers: [on(Tock, (m) => void topical.push(m.seq))] }, {
    subscribe: ["ticks"],
  });
  const { toA } = link(a, b);
  await a.publish(Tick, tick(1));
  await a.publish(Tock, { seq: 2 });
  await a.idle();
  await b.idle();
  assert.deepEqual(local, [1]);
  assert.deepEqual(remote, [1]);
  assert.deepEqual(topical, [2]);
  assert.equal(toA.sent, 0, "a published message delivered remotely is not sent back");
});

Deno.test("MessageBus: request and reply cross a link", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  b.spawn("doubler", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))] });
  b.spawn("mute", { handlers: [on(Ask, () => {})] });
  link(a, b);
  const answer = await a.request("doubler", Ask, { n: 21 }, { reply: Answer });
  assert.equal(answer.n, 42);
  await assert.rejects(
    a.request("mute", Ask, { n: 1 }, { reply: Answer }),
    (e: unknown) => e instanceof BusError && e.code === "BUS_NO_REPLY",
  );
});

Deno.test("MessageBus: an actor's ctx.request reaches a remote actor", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  const got = gate<number>();
  b.spawn("doubler", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))] });
  a.spawn("asker", {
    handlers: [on(Tick, async (m, ctx) => {
      got.open((await ctx.request("doubler", Ask, { n: m.seq }, { reply: Answer })).n);
    })],
  });
  link(a, b);
  await a.send("asker", Tick, tick(5));
  assert.equal(await got.promise, 10);
});

Deno.test("MessageBus: hostedRoutes lists actors, types and topics; changes are announced", async () => {
  await using bus = new MessageBus();
  let changes = 0;
  const unlisten = bus.onRoutesChange(() => changes++);
  bus.spawn("ticker", { handlers: [on(Tick, () => {})] });
  bus.spawn("topical", { handlers: [on(Tock, () => {})] }, { subscribe: ["ticks"] });
  bus.spawn("direct-only", { handlers: [on(Ask, () => {})] }, { subscribe: [] });
  const routes = bus.hostedRoutes();
  assert.deepEqual(routes.actors, ["ticker", "topical", "direct-only"]);
  assert.deepEqual(routes.types, [Tick]);
  assert.deepEqual(routes.topics, ["ticks"]);
  assert.equal(changes, 3);
  unlisten();
  bus.spawn("quiet", { handlers: [on(Ask, () => {})] });
  assert.equal(changes, 3);
});

Deno.test("MessageBus: after detach, remote actors are unreachable", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  b.spawn("remote-sink", { handlers: [on(Tick, () => {})] });
  const { toB } = link(a, b);
  a.detach(toB);
  assert.throws(
    () => a.send("remote-sink", Tick, tick(1)),
    (e: unknown) => e instanceof BusError && e.code === "BUS_NO_ROUTE",
  );
});

Deno.test("MessageBus: a remote request for an unknown actor is failed back to the requester", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  const { toB } = link(a, b);
  a.attach(toB, { actors: ["ghost"], types: [], topics: [] });
  await assert.rejects(
    a.request("ghost", Ask, { n: 1 }, { reply: Answer }),
    (e: unknown) => e instanceof BusError && e.code === "BUS_NO_ROUTE",
  );
  assert.equal(a.stats().pendingRequests, 0);
});

Deno.test("MessageBus: detaching a peer fails the requests that went through it", async () => {
  await using a = new MessageBus();
  await using b = new MessageBus();
  const hold = gate();
  b.spawn("slow", {
    handlers: [on(Ask, async (q, ctx) => {
      await hold.promise;
      ctx.reply(Answer, q);
    })],
  });
  const { toB } = link(a, b);
  const pending = a.request("slow", Ask, { n: 1 }, { reply: Answer });
  a.detach(toB);
  await assert.rejects(pending, (e: unknown) => e instanceof BusError && e.code === "BUS_NO_ROUTE");
  hold.open();
  await b.idle(); // the late reply finds nothing pending
  assert.equal(a.stats().pendingRequests, 0);
});

Deno.test("MessageBus: handledTypes and actorStats describe the local actors", async () => {
  await using bus = new MessageBus();
  bus.spawn("one", { handlers: [on(Tick, () => {}), on(Ask, () => {})] }, { subscribe: [] });
  bus.spawn("two", { handlers: [on(Tick, () => {})] });
  assert.deepEqual(bus.handledTypes(), [Tick, Ask]);
  await bus.publish(Tick, tick(1));
  await bus.idle();
  assert.deepEqual(bus.actorStats().map((s) => [s.name, s.handled]), [["one", 0], ["two", 1]]);
});
