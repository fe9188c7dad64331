/**
 * A handshake's stop signal can outlive it (a link dials with its lifetime
 * signal on every reconnect): the handshake lets go of it when it ends, so a
 * link that keeps reconnecting does not pile up one abort listener each time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { handshake, type HandshakeSide } from "../../src/transport/_handshake.ts";
import type { ByteStream } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { registry } from "./_helpers.ts";

/** A signal whose live "abort" listeners are counted. */
function countedSignal(): { controller: AbortController; live: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  const listeners = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  Object.assign(signal, {
    addEventListener(
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: unknown,
    ) {
      if (type === "abort") listeners.add(listener);
      add(type, listener, options as AddEventListenerOptions);
    },
    removeEventListener(
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: unknown,
    ) {
      if (type === "abort") listeners.delete(listener);
      remove(type, listener, options as EventListenerOptions);
    },
  });
  return { controller, live: () => listeners.size };
}

function side(role: "dialer" | "acceptor", identity: string, signal?: AbortSignal): HandshakeSide {
  return {
    role,
    identity,
    registry: registry(),
    key: undefined,
    maxFrameSize: 1 << 20,
    timeoutMs: 5_000,
    bootId: 12345,
    bind: () => 12345,
    resumePoint: (peer) => ({ received: 0, ref: peer.bootId }),
    ...(signal === undefined ? {} : { signal }),
  };
}

function close(stream: ByteStream): void {
  try {
    stream.close();
  } catch {
    // Already closed.
  }
}

Deno.test("handshake: a dial's stop signal keeps no listener once the handshake ended", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-handshake-" });
  const transport = new UnixTransport({ path: `${dir}/s.sock` });
  const listener = await transport.listen();
  const { controller, live } = countedSignal();
  try {
    // One link's reconnects: every dial passes the same lifetime signal.
    for (let i = 0; i < 5; i++) {
      const [dialed, accepted] = await Promise.all([transport.dial(), listener.accept()]);
      try {
        const [mine] = await Promise.all([
          handshake(dialed, side("dialer", "client", controller.signal)),
          handshake(accepted, side("acceptor", "server")),
        ]);
        assert.equal(mine.peer.identity, "server");
        assert.equal(live(), 0, `handshake ${i + 1} left an abort listener on the signal`);
      } finally {
        close(dialed);
        close(accepted);
      }
    }
    // A handshake that fails (the peer hangs up) lets go of it too.
    const [dialed, accepted] = await Promise.all([transport.dial(), listener.accept()]);
    close(accepted);
    await assert.rejects(handshake(dialed, side("dialer", "client", controller.signal)));
    close(dialed);
    assert.equal(live(), 0, "a failed handshake left an abort listener on the signal");
    // And the signal still stops a handshake that waits on a silent peer.
    const [silent, held] = await Promise.all([transport.dial(), listener.accept()]);
    const waiting = handshake(silent, side("dialer", "client", controller.signal));
    assert.equal(live(), 1);
    controller.abort(new Error("link closed"));
    await assert.rejects(waiting, /link closed/);
    close(silent);
    close(held);
    assert.equal(live(), 0);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
