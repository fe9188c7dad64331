/**
 * Resuming after a reconnect, against a scripted peer that speaks the link
 * protocol by hand: what the peer confirmed is not sent again, what it did not
 * is, in order.
 */
import assert from "node:assert/strict";
import { FrameSplitter } from "../../src/codec/mod.ts";
import { Heartbeat } from "../../src/transport/_control.ts";
import { handshake, writeAll } from "../../src/transport/_handshake.ts";
import { Link } from "../../src/transport/link.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Num, range, RecordingLogger, registry } from "./_helpers.ts";

/** Accepts one connection, handshakes as the same peer instance, reads `count` Nums. */
async function scriptedPeer(
  listener: Deno.Listener,
  received: (peerBoot: number) => { received: number; ref: number },
  count: number,
): Promise<{ conn: Deno.Conn; numbers: number[] }> {
  const conn = await listener.accept();
  const result = await handshake(conn, {
    role: "acceptor",
    identity: "scripted",
    registry: registry(),
    key: undefined,
    maxFrameSize: 1 << 20,
    timeoutMs: 5000,
    bind: () => 777,
    resumePoint: (peer) => received(peer.bootId),
  });
  const splitter = new FrameSplitter();
  splitter.push(result.leftover);
  const numbers: number[] = [];
  while (numbers.length < count) {
    for (let p = splitter.next(); p >= 0; p = splitter.next()) {
      const id = splitter.dataView.getUint16(p + 2, true);
      if (id === Num.id) numbers.push(Num.view(splitter.buffer, p).n);
    }
    if (numbers.length >= count) break;
    const n = await conn.read(splitter.reserve(4096));
    if (n === null) throw new Error("link hung up");
    splitter.commit(n);
  }
  return { conn, numbers };
}

Deno.test("after a reconnect, a link resends exactly what the same peer did not confirm", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/scripted.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const log = new RecordingLogger();
  let linkBoot = 0;
  const first = scriptedPeer(listener, (boot) => {
    linkBoot = boot;
    return { received: 0, ref: boot };
  }, 20);
  const link = await Link.connect(new UnixTransport({ path }), {
    registry: registry(),
    identity: "client",
    logger: log,
    reconnect: { initialMs: 5, maxMs: 20 },
  });
  for (let n = 0; n < 20; n++) link.write(Num, { n, note: "" });
  const one = await first;
  assert.deepEqual(one.numbers, range(0, 20));
  // Confirm 4, then vanish: the link must keep 4..19 for the next connection.
  await writeAll(one.conn, Heartbeat.toBytes({ received: 4 }));
  const ended = log.waitFor((e) => e.message === "link connection ended");
  one.conn.close();
  await ended;
  // The same peer instance comes back and says it has 7 of them after all.
  const two = await scriptedPeer(listener, (boot) => {
    assert.equal(boot, linkBoot);
    return { received: 7, ref: boot };
  }, 13);
  assert.deepEqual(two.numbers, range(7, 20));
  assert.equal(link.stats.reconnects, 1);
  two.conn.close();
  await link.close({ drainMs: 0 });
  // Frames 7..19 were written again but never confirmed: counted, not lost silently.
  assert.equal(link.stats.undelivered, 13);
  listener.close();
  await Deno.remove(dir, { recursive: true });
});

/**
 * A link that wrote Nums 0..9 to a scripted peer which confirmed 3 of them and
 * went away: 3..9 wait for the peer's next instance.
 */
async function afterPeerDied() {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/scripted.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const log = new RecordingLogger();
  const first = scriptedPeer(listener, (boot) => ({ received: 0, ref: boot }), 10);
  const link = await Link.connect(new UnixTransport({ path }), {
    registry: registry(),
    identity: "client",
    logger: log,
    reconnect: { initialMs: 5, maxMs: 20 },
  });
  for (let n = 0; n < 10; n++) link.write(Num, { n, note: "" });
  const one = await first;
  await writeAll(one.conn, Heartbeat.toBytes({ received: 3 }));
  const ended = log.waitFor((e) => e.message === "link connection ended");
  one.conn.close();
  await ended;
  return {
    link,
    listener,
    async [Symbol.asyncDispose]() {
      await link.close({ drainMs: 0 });
      listener.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a restarted peer (new instance) gets every unconfirmed frame again", async () => {
  await using s = await afterPeerDied();
  // A new instance knows nothing of the link (ref 0): frames 3..9 come again.
  const two = await scriptedPeer(s.listener, () => ({ received: 0, ref: 0 }), 7);
  assert.deepEqual(two.numbers, range(3, 10));
  two.conn.close();
});

Deno.test("a restarted peer that counts from zero releases the resent frames as it confirms them", async () => {
  await using s = await afterPeerDied();
  // What a real new instance says: it has none of this link's frames (it names our boot).
  const two = await scriptedPeer(s.listener, (boot) => ({ received: 0, ref: boot }), 7);
  assert.deepEqual(two.numbers, range(3, 10));
  // It confirms the 7 it got, counting from its own start: all of them are released.
  await writeAll(two.conn, Heartbeat.toBytes({ received: 7 }));
  await s.link.drained(AbortSignal.timeout(10_000));
  assert.equal(s.link.buffered, 0);
  two.conn.close();
  await s.link.close({ drainMs: 0 });
  assert.equal(s.link.stats.undelivered, 0);
});
