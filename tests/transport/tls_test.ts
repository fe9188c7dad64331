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

Deno.test("TLS: a client that does not trust the server's certificate fails at once with TRANSPORT_TLS, not retried", async () => {
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
  const log = new RecordingLogger();
  // Reconnects on, with no signal: a retry would only fail again, so none is made.
  const error = await Link.connect(new TcpTransport({ port, tls: { caFile: stranger.caFile } }), {
    registry: registry(),
    identity: "client",
    logger: log,
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "TRANSPORT_TLS");
  assert.match(error.message, /certificate/);
  assert.equal(log.entries.filter((e) => e.message === "link reconnecting").length, 0);
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

Deno.test("TLS: a certificate that names another host fails at once with TRANSPORT_TLS", async () => {
  const scratch = await Scratch.create();
  const tls = await makeTestCertificate(scratch.dir);
  // The certificate names 127.0.0.1 and localhost; the listener answers on 127.0.0.2 too.
  await using listener = await LinkListener.listen(
    new TcpTransport({ hostname: "0.0.0.0", port: 0, tls }),
    { registry: registry(), identity: "server", key: "k" },
  );
  const port = Number(listener.transport.address.split(":").pop());
  const error = await Link.connect(
    new TcpTransport({ hostname: "127.0.0.2", port, tls: { caFile: tls.caFile } }),
    { registry: registry(), identity: "client", key: "k", logger: new RecordingLogger() },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "TRANSPORT_TLS");
  assert.match(error.message, /127\.0\.0\.2/);
  await scratch.cleanup();
});

Deno.test("TLS: an unreadable caFile fails at once with TRANSPORT_TLS naming the file", async () => {
  const error = await Link.connect(
    new TcpTransport({ port: 1, tls: { caFile: "/nonexistent/ca.pem" } }),
    { registry: registry(), identity: "client", logger: new RecordingLogger() },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "TRANSPORT_TLS");
  assert.match(error.message, /\/nonexistent\/ca\.pem/);
});
