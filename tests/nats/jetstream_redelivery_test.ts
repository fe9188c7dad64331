/**
 * JetStream delivery in a NatsPeer, without a server: two peers share an
 * in-memory NATS (core subjects and a stream that hands each message to the
 * receiving group's consumer). A message the stream hands out again (same
 * message id, marked redelivered) is acknowledged again and handled once; a
 * sender's retried publish is stored once; at the end of a run, the
 * receiver's consumer runs until a message whose acknowledgement was lost
 * is handed out again and acknowledged.
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import type { NatsJetStreamWire, NatsJetStreamWireMessage } from "../../src/bus/nats_peer.ts";
import { NatsPeer } from "../../src/bus/nats_peer.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import { JetStreamDedup } from "../../src/bus/_nats_jetstream.ts";
import { matches, MemoryNats } from "./_memory_nats.ts";

const Booked = defineMessage({ id: 701, name: "Booked", fields: { n: field.u32() } });
const Note = defineMessage({ id: 702, name: "Note", topic: "notes", fields: { n: field.u32() } });

interface Stored {
  subject: string;
  data: Uint8Array;
  msgId: string;
  acks: number;
}

/** A stream in memory: stores once per message id, hands messages to the consumer of their filter. */
class MemoryStream implements NatsJetStreamWire {
  readonly stored: Stored[] = [];
  readonly published: string[] = [];
  /** Fail this many publishes (after storing, as a lost acknowledgement would). */
  failAcks = 0;
  /** Lose the receiver's acknowledgements of this many next first deliveries. */
  dropAcks = 0;
  /** A message handed out and not acknowledged within this many ms is handed out again. */
  readonly ackWaitMs = 200;
  #consumers = new Map<string, (m: NatsJetStreamWireMessage) => void>();
  #handedOut = new Set<Stored>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Times the receiver asked what its consumer has left. */
  backlogs = 0;

  publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    this.published.push(msgId);
    if (!this.stored.some((s) => s.msgId === msgId)) {
      const s = { subject, data: data.slice(), msgId, acks: 0 };
      this.stored.push(s);
      this.hand(s, false);
    }
    if (this.failAcks > 0) {
      this.failAcks--;
      return Promise.reject(new Error("no acknowledgement in time"));
    }
    return Promise.resolve();
  }

  consume(filter: string, _durable: string, handler: (m: NatsJetStreamWireMessage) => void) {
    this.#consumers.set(filter, handler);
    return Promise.resolve(() => void this.#consumers.delete(filter));
  }

  /** Messages handed out and not acknowledged; none waits to be handed out. */
  backlog(): Promise<{ ackPending: number; pending: number; ackWaitMs: number }> {
    this.backlogs++;
    return Promise.resolve({
      ackPending: this.#handedOut.size,
      pending: 0,
      ackWaitMs: this.ackWaitMs,
    });
  }

  /** Hands `s` to the consumer whose filter matches (again, when `redelivered`). */
  hand(s: Stored, redelivered: boolean): void {
    for (const [filter, handler] of this.#consumers) {
      if (!matches(filter, s.subject)) continue;
      this.#handedOut.add(s);
      const lost = !redelivered && this.dropAcks > 0;
      if (lost) {
        this.dropAcks--;
        // No acknowledgement comes: handed out again after the deadline, as a server does.
        const t = setTimeout(() => {
          this.#timers.delete(t);
          if (this.#consumers.has(filter)) this.hand(s, true);
        }, this.ackWaitMs);
        this.#timers.add(t);
      }
      queueMicrotask(() =>
        handler({
          data: s.data,
          subject: s.subject,
          msgId: s.msgId,
          redelivered,
          ack: () => {
            if (lost) return;
            s.acks++;
            this.#handedOut.delete(s);
          },
        })
      );
    }
  }

  /** Stops handing out (what is still handed out stays unacknowledged). */
  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

async function twoGroups(
  stream: MemoryStream,
  f: (a: MessageBus, handled: number[], notes: number[], peers: NatsPeer[]) => Promise<void>,
): Promise<void> {
  const core = new MemoryNats();
  const handled: number[] = [];
  const notes: number[] = [];
  const buses: MessageBus[] = [];
  const peers: NatsPeer[] = [];
  for (const [identity, other] of [["a", "b"], ["b", "a"]] as const) {
    const bus = new MessageBus();
    buses.push(bus);
    if (identity === "b") {
      bus.spawn("ledger", { handlers: [on(Booked, ({ n }) => void handled.push(n))] });
      bus.spawn("notes", { handlers: [on(Note, ({ n }) => void notes.push(n))] }, {
        subscribe: [Note],
      });
    }
    const peer = new NatsPeer(bus, core.wire(), new Registry([Booked, Note]), {
      identity,
      peers: [other],
      groups: ["a", "b"],
      subjectPrefix: "t",
      jetstream: { wire: stream, groups: ["b"] },
    });
    peers.push(peer);
    bus.attach(peer, peer.routes);
    peer.start();
  }
  try {
    // Both announced: a reaches b's actors.
    while (!peers[0]!.announced.includes("b") || !peers[1]!.announced.includes("a")) {
      await new Promise((r) => setTimeout(r, 1));
    }
    await f(buses[0]!, handled, notes, peers);
  } finally {
    for (const p of peers) p.close();
    stream.close();
    for (const b of buses) await b.close({ deadlineMs: 0 });
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(check(), "never happened");
}

Deno.test("JetStream: a redelivered message (same id) is acknowledged again and handled once", async () => {
  const stream = new MemoryStream();
  await twoGroups(stream, async (a, handled) => {
    for (let n = 1; n <= 3; n++) await a.send("ledger", Booked, { n });
    await until(() => handled.length === 3 && stream.stored.every((s) => s.acks === 1));
    assert.deepEqual(stream.stored.map((s) => s.subject), [
      "t.j.b.a.ledger",
      "t.j.b.a.ledger",
      "t.j.b.a.ledger",
    ]);
    // The acknowledgement of the second was lost: the stream hands it out again.
    stream.hand(stream.stored[1]!, true);
    await until(() => stream.stored[1]!.acks === 2);
    await a.send("ledger", Booked, { n: 4 });
    await until(() => handled.length === 4);
    assert.deepEqual(handled, [1, 2, 3, 4]);
  });
});

Deno.test("JetStream: a publish whose acknowledgement was lost is retried with the same id and stored once", async () => {
  const stream = new MemoryStream();
  stream.failAcks = 1;
  await twoGroups(stream, async (a, _handled, notes) => {
    await a.publish(Note, { n: 1 });
    await a.publish(Note, { n: 2 });
    await until(() => notes.length === 2 && stream.published.length === 3);
    assert.deepEqual(notes, [1, 2]);
    // Published three times (one retry), stored twice, under the subject of b's stream.
    assert.equal(stream.stored.length, 2);
    assert.equal(stream.published.filter((id) => id === stream.stored[0]!.msgId).length, 2);
    assert.match(stream.stored[0]!.subject, /^t\.j\.b\.p\.notes\.Note$/);
  });
});

Deno.test("JetStream: at the end of a run, a message whose acknowledgement was lost is handed out again and acknowledged before the consumer stops", async () => {
  const stream = new MemoryStream();
  await twoGroups(stream, async (a, handled, _notes, peers) => {
    for (let n = 1; n <= 3; n++) {
      // The acknowledgement of the last one is lost.
      if (n === 3) stream.dropAcks = 1;
      await a.send("ledger", Booked, { n });
    }
    await until(() => handled.length === 3 && stream.stored.slice(0, 2).every((s) => s.acks === 1));
    assert.equal(stream.dropAcks, 0);
    // Both groups tally; b's consumer runs until the stream has nothing handed out.
    assert.deepEqual(await Promise.all(peers.map((p) => p.tally(1000))), [true, true]);
    assert.deepEqual(stream.stored.map((s) => s.acks), [1, 1, 1]);
    assert.deepEqual(handled, [1, 2, 3]);
    assert.equal(peers[1]!.stats().redelivered, 1);
  });
});

Deno.test("JetStream: at the end of a run with nothing left, the receiver asks its stream once", async () => {
  const stream = new MemoryStream();
  await twoGroups(stream, async (a, handled, _notes, peers) => {
    for (let n = 1; n <= 3; n++) await a.send("ledger", Booked, { n });
    await until(() => handled.length === 3 && stream.stored.every((s) => s.acks === 1));
    assert.deepEqual(await Promise.all(peers.map((p) => p.tally(1000))), [true, true]);
    // Only the JetStream group asks (once); the other receives on core NATS.
    assert.equal(stream.backlogs, 1);
  });
});

Deno.test("JetStreamDedup: below the next number, a redelivery is skipped and a first delivery is late", () => {
  const d = new JetStreamDedup();
  assert.equal(d.admit("x", 5, true), true); // a new instance starts where the stream is
  assert.equal(d.admit("x", 6, false), true);
  assert.equal(d.admit("x", 6, true), false);
  assert.equal(d.admit("x", 4, false), true);
  assert.equal(d.admit("y", 6, true), true);
  assert.deepEqual(d.stats(), { duplicates: 1, late: 1 });
});
