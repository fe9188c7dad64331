/**
 * The publish and receive paths of `NatsPeer` over a NATS connection held
 * in memory: a group that subscribes to a type already being published
 * takes credit from then on, and a frame with an unreadable header ends its
 * batch, the frames behind it counted as lost once the next batch arrives.
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { NatsPeer } from "../../src/bus/nats_peer.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import { MemoryNats } from "./_memory_nats.ts";

const Tick = defineMessage({ id: 621, name: "Tick", fields: { n: field.u32() } });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(check(), "never happened");
}

/** A bus and its NatsPeer on `nats`, attached and started. */
function group(
  nats: MemoryNats,
  identity: string,
  peers: string[],
  spawn: (bus: MessageBus) => void,
): { bus: MessageBus; peer: NatsPeer } {
  const bus = new MessageBus();
  spawn(bus);
  const peer = new NatsPeer(bus, nats.wire(), new Registry([Tick]), {
    identity,
    peers,
    groups: ["a", "b", "c"],
    subjectPrefix: "t",
    window: 4,
    overflow: "drop-newest",
  });
  bus.attach(peer, peer.routes);
  peer.start();
  return { bus, peer };
}

Deno.test("NATS: a group that subscribes to a type already being published takes credit from then on", async () => {
  const nats = new MemoryNats();
  const seenB: number[] = [];
  const gate = Promise.withResolvers<void>();
  const a = group(nats, "a", ["b", "c"], () => {});
  const b = group(nats, "b", ["a", "c"], (bus) => {
    bus.spawn("sink", { handlers: [on(Tick, ({ n }) => void seenB.push(n))] }, {
      subscribe: [Tick],
    });
  });
  const groups = [a, b];
  try {
    await until(() => a.peer.announced.includes("b"));
    // a publishes Tick to b alone, and b keeps returning credit.
    for (let n = 0; n < 8; n++) {
      a.bus.publish(Tick, { n });
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => seenB.length === 8);
    // c subscribes with a mailbox of one that never empties: it accepts two and returns no more credit.
    const c = group(nats, "c", ["a", "b"], (bus) => {
      bus.spawn("stuck", { handlers: [on(Tick, () => gate.promise)] }, {
        subscribe: [Tick],
        mailbox: { capacity: 1 },
      });
    });
    groups.push(c);
    await until(() => a.peer.announced.includes("c") && a.peer.routes.types.includes(Tick));
    for (let n = 8; n < 68; n++) {
      a.bus.publish(Tick, { n });
      await new Promise((r) => setTimeout(r, 1));
    }
    // Publishes wait for c's credit (dropped by a's policy), instead of overflowing c's inbound queue.
    assert.ok(a.peer.stats().dropped > 0, "a never ran out of credit for c");
    assert.equal(c.peer.stats().inboundDropped, 0);
    assert.ok(c.peer.stats().inboundQueued <= 4 + 2, `c holds ${c.peer.stats().inboundQueued}`);
  } finally {
    gate.resolve();
    for (const g of groups) g.peer.close();
    for (const g of groups) await g.bus.close({ deadlineMs: 0 });
  }
});

/** Envelope (publish, sent by group `a`: tag 1 of a, b, c, number `seq`) and a Tick frame. */
function framed(seq: number, n: number, badMagic = false): Uint8Array {
  const frame = Tick.toBytes({ n });
  if (badMagic) frame[0] = 0;
  const out = new Uint8Array(12 + frame.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 4 | (1 << 16), true);
  dv.setUint32(8, seq, true);
  out.set(frame, 12);
  return out;
}

function batch(...frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

Deno.test("NATS: a frame with an unreadable header ends its batch; the frames behind it count as lost", async () => {
  const nats = new MemoryNats();
  const seen: number[] = [];
  const b = group(nats, "b", ["a"], (bus) => {
    bus.spawn("sink", { handlers: [on(Tick, ({ n }) => void seen.push(n))] }, {
      subscribe: [Tick],
    });
  });
  try {
    const sub = [...nats.subs].find((s) => s.subject.startsWith("t.p."));
    assert.ok(sub !== undefined, "b subscribes to Tick's publish subject");
    sub.handler({
      data: batch(framed(1, 1), framed(2, 2, true), framed(3, 3)),
      subject: sub.subject,
    });
    sub.handler({ data: batch(framed(4, 4), framed(5, 5)), subject: sub.subject });
    await until(() => seen.length === 3);
    assert.deepEqual(seen, [1, 4, 5]);
    const s = b.peer.stats();
    assert.deepEqual({ received: s.received, refused: s.refused, lost: s.lost }, {
      received: 4,
      refused: 1,
      lost: 1,
    });
  } finally {
    b.peer.close();
    await b.bus.close({ deadlineMs: 0 });
  }
});
