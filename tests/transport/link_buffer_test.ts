/**
 * The outbound buffer while the peer is away: bounded, with the four overflow
 * policies, and nothing lost silently. Run over Unix sockets only: the buffer
 * is the same code on every transport (the behaviour suite covers reconnects
 * on each).
 */
import assert from "node:assert/strict";
import { Link, type OverflowPolicy, WRITE_RESULT } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Inbox, Num, range, recorder, RecordingLogger, registry, type Seen } from "./_helpers.ts";

/** Num with an empty note is 20 bytes: a 200-byte buffer holds 10. */
const FRAME = 20;

async function awayLink(overflow: OverflowPolicy) {
  const dir = await Deno.makeTempDir();
  const address: Transport = new UnixTransport({ path: `${dir}/peer.sock` });
  const log = new RecordingLogger();
  const first = await LinkListener.listen(address, {
    registry: registry(),
    identity: "server",
    logger: new RecordingLogger(),
  });
  const link = await Link.connect(address, {
    registry: registry(),
    identity: "client",
    logger: log,
    overflow,
    maxBufferedBytes: 10 * FRAME,
    reconnect: { initialMs: 5, maxMs: 40 },
  });
  const gone = log.waitFor((e) => e.message === "link connection ended");
  await first.close();
  await gone;
  return {
    link,
    /** Brings the peer back and returns what it receives. */
    async comeBack(expected: number): Promise<number[]> {
      const inbox = new Inbox<Seen>();
      const second = await LinkListener.listen(address, {
        registry: registry(),
        identity: "server",
        logger: new RecordingLogger(),
        handler: recorder(inbox),
      });
      const got = await inbox.count(expected);
      await link.drained();
      await link.close();
      await second.close();
      return got.map((s) => s.n);
    },
    async cleanup(): Promise<void> {
      await link.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("drop-newest keeps the oldest messages and counts the rest as dropped", async () => {
  const t = await awayLink("drop-newest");
  const results = range(0, 15).map((n) => t.link.write(Num, { n, note: "" }));
  assert.deepEqual(results, [
    ...Array(10).fill(WRITE_RESULT.queued),
    ...Array(5).fill(WRITE_RESULT.dropped),
  ]);
  assert.equal(t.link.stats.dropped, 5);
  assert.deepEqual(await t.comeBack(10), range(0, 10));
  assert.equal(t.link.stats.undelivered, 0);
  await t.cleanup();
});

Deno.test("drop-oldest keeps the newest messages and counts the rest as dropped", async () => {
  const t = await awayLink("drop-oldest");
  for (let n = 0; n < 15; n++) {
    assert.equal(t.link.write(Num, { n, note: "" }), WRITE_RESULT.queued);
  }
  assert.equal(t.link.stats.dropped, 5);
  assert.deepEqual(await t.comeBack(10), range(5, 15));
  await t.cleanup();
});

Deno.test("policy error throws TRANSPORT_BUFFER_FULL and keeps what was queued", async () => {
  const t = await awayLink("error");
  for (let n = 0; n < 10; n++) t.link.write(Num, { n, note: "" });
  assert.throws(
    () => t.link.write(Num, { n: 10, note: "" }),
    (e) => e instanceof TransportError && e.code === "TRANSPORT_BUFFER_FULL",
  );
  assert.equal(t.link.stats.dropped, 0);
  assert.deepEqual(await t.comeBack(10), range(0, 10));
  await t.cleanup();
});

Deno.test("policy wait makes send wait for room, then delivers everything in order", async () => {
  const t = await awayLink("wait");
  for (let n = 0; n < 10; n++) t.link.write(Num, { n, note: "" });
  assert.equal(t.link.write(Num, { n: 10, note: "" }), WRITE_RESULT.full);
  let sent = 10;
  const sender = (async () => {
    for (let n = 10; n < 25; n++) {
      await t.link.send(Num, { n, note: "" });
      sent++;
    }
  })();
  // The peer is away: nothing can make room, so the sender is still waiting.
  await Promise.resolve();
  assert.equal(sent, 10);
  const got = t.comeBack(25);
  await sender;
  assert.deepEqual(await got, range(0, 25));
  assert.equal(t.link.stats.dropped, 0);
  await t.cleanup();
});

Deno.test("closing with messages buffered counts them as undelivered and fails waiting sends", async () => {
  const t = await awayLink("wait");
  for (let n = 0; n < 10; n++) t.link.write(Num, { n, note: "" });
  const waiting = t.link.send(Num, { n: 10, note: "" });
  await t.link.close({ drainMs: 10 });
  await assert.rejects(
    waiting,
    (e) => e instanceof TransportError && e.code === "TRANSPORT_CLOSED",
  );
  assert.equal(t.link.stats.undelivered, 10);
  assert.equal(t.link.state, "closed");
  assert.throws(
    () => t.link.write(Num, { n: 11, note: "" }),
    (e) => e instanceof TransportError && e.code === "TRANSPORT_CLOSED",
  );
  await t.cleanup();
});

Deno.test("a message larger than the whole buffer is refused", async () => {
  const t = await awayLink("drop-newest");
  assert.throws(
    () => t.link.write(Num, { n: 1, note: "x".repeat(500) }),
    (e) => e instanceof TransportError && e.code === "TRANSPORT_FRAME_TOO_LARGE",
  );
  await t.cleanup();
});
