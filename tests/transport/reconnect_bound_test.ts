/**
 * Retries are bounded by default: a link that cannot reach its peer gives up
 * after `reconnect.giveUpMs` (a minute unless set) with `TRANSPORT_CONNECT`,
 * before its first connection and after losing one.
 */
import assert from "node:assert/strict";
import { Link, RECONNECT_DEFAULTS } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { kinds, Num, RecordingLogger, registry, Scratch } from "./_helpers.ts";

const scratch = await Scratch.create();
globalThis.addEventListener("unload", () => Deno.removeSync(scratch.dir, { recursive: true }));
const KINDS = await kinds(scratch);

Deno.test("reconnects are bounded by default (a documented giveUpMs)", () => {
  assert.ok(Number.isFinite(RECONNECT_DEFAULTS.giveUpMs));
  assert.equal(RECONNECT_DEFAULTS.giveUpMs, 60_000);
});

for (const kind of KINDS) {
  Deno.test(`${kind.name}: connect without a signal gives up after giveUpMs with TRANSPORT_CONNECT`, async () => {
    const listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "x",
    });
    const address = listener.transport;
    await listener.close();
    const log = new RecordingLogger();
    const started = Date.now();
    const error = await Link.connect(address, {
      registry: registry(),
      identity: "client",
      logger: log,
      reconnect: { initialMs: 5, maxMs: 20, giveUpMs: 200 },
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, "TRANSPORT_CONNECT");
    assert.match(error.message, /gave up .*giveUpMs 200/);
    assert.ok(Date.now() - started >= 150);
    // Waiting for a peer that never came up was no alarm until the end.
    assert.deepEqual(log.entries.filter((e) => e.level === "warn"), []);
    assert.equal(log.entries.at(-1)?.level, "error");
  });

  Deno.test(`${kind.name}: a link whose peer is gone for good closes after giveUpMs, counting what it held`, async () => {
    const listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "srv",
    });
    const link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      reconnect: { initialMs: 5, maxMs: 20, giveUpMs: 200 },
    });
    await listener.close();
    link.write(Num, { n: 1, note: "never delivered" });
    const error = await link.closed;
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_CONNECT");
    assert.equal(link.state, "closed");
    assert.equal(link.stats.undelivered, 1);
  });
}
