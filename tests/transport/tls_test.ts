/** TLS specifics (the behaviour suite runs every link test over TLS too). */
import assert from "node:assert/strict";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import {
  Inbox,
  makeTestCertificate,
  Num,
  recorder,
  RecordingLogger,
  registry,
  Scratch,
  type Seen,
} from "./_helpers.ts";

Deno.test("TLS: a client that does not trust the server's certificate cannot connect", async () => {
  const scratch = await Scratch.create();
  const tls = await makeTestCertificate(scratch.dir);
  const other = await Scratch.create();
  const stranger = await makeTestCertificate(other.dir);
  const inbox = new Inbox<Seen>();
  const listener = await LinkListener.listen(new TcpTransport({ port: 0, tls }), {
    registry: registry(),
    identity: "server",
    logger: new RecordingLogger(),
    handler: recorder(inbox),
  });
  const port = Number(listener.transport.address.split(":").pop());
  const error = await Link.connect(new TcpTransport({ port, tls: { caFile: stranger.caFile } }), {
    registry: registry(),
    identity: "client",
    logger: new RecordingLogger(),
    reconnect: false,
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "TRANSPORT_CONNECT");
  // The listener still serves clients that do trust it.
  const good = await Link.connect(listener.transport, {
    registry: registry(),
    identity: "good",
    logger: new RecordingLogger(),
  });
  good.write(Num, { n: 5, note: "" });
  assert.equal((await inbox.count(1))[0]?.n, 5);
  await good.close();
  await listener.close();
  await scratch.cleanup();
  await other.cleanup();
});

Deno.test("TLS: a listener without certificate files is refused with a clear error", async () => {
  await assert.rejects(
    new TcpTransport({ port: 0, tls: {} }).listen(),
    (e) =>
      e instanceof TransportError && e.code === "TRANSPORT_CONNECT" && /certFile/.test(e.message),
  );
});
