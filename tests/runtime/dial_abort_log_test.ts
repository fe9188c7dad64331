/**
 * A dial its caller stops (a node closing while a peer's address answers
 * without ever completing the handshake, e.g. another program holds the
 * port) ends quietly: an orderly stop is no error in the log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Registry } from "../../src/codec/mod.ts";
import { Link } from "../../src/transport/link.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { Tick } from "../bus/_messages.ts";

/**
 * Another program on a port: it accepts connections and never says a word.
 * `onConnection` runs for each; `close()` ends it and what it accepted.
 */
function squatter(onConnection: () => void = () => {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted.push(conn);
      onConnection();
    }
  })();
  return {
    transport: new TcpTransport({
      hostname: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    }),
    async close(): Promise<void> {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of accepted) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    },
  };
}

Deno.test("a dial stopped by its caller's signal logs no error", async () => {
  const port = squatter();
  const errors: string[] = [];
  const stop = new AbortController();
  const logger = {
    error: (message: string) => errors.push(message),
    warn: () => {},
    // Its first failed handshake: the dial is retrying; now its caller stops it.
    info: (message: string) => {
      if (message === "link reconnecting") stop.abort();
    },
  };
  try {
    const dialing = Link.connect(
      port.transport,
      {
        registry: new Registry([Tick]),
        identity: "dialer",
        logger,
        handshakeTimeoutMs: 100,
        signal: stop.signal,
      },
    );
    await assert.rejects(
      dialing,
      (e) => e instanceof TransportError && /signal aborted/.test(e.message),
    );
    assert.deepEqual(errors, []);
  } finally {
    await port.close();
  }
});

Deno.test("a dial stopped by its caller mid-handshake ends then, not at the handshake deadline", async () => {
  const stop = new AbortController();
  // The dial is connected and waits for a Hello that never comes: its caller stops it.
  const port = squatter(() => stop.abort());
  try {
    const began = performance.now();
    const dialing = Link.connect(
      port.transport,
      {
        registry: new Registry([Tick]),
        identity: "dialer",
        handshakeTimeoutMs: 60_000,
        signal: stop.signal,
      },
    );
    await assert.rejects(
      dialing,
      (e) => e instanceof TransportError && /signal aborted/.test(e.message),
    );
    const tookMs = performance.now() - began;
    assert.ok(tookMs < 10_000, `the stopped dial took ${Math.round(tookMs)} ms`);
  } finally {
    await port.close();
  }
});
