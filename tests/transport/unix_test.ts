import assert from "node:assert/strict";
import { TransportError } from "../../src/transport/transport_error.ts";
import { UnixTransport } from "../../src/transport/unix.ts";

Deno.test("UnixTransport creates a 0700 directory and a 0600 socket file", async () => {
  const root = await Deno.makeTempDir();
  const dir = `${root}/run/mycelium`;
  const listener = await new UnixTransport({ path: `${dir}/hot_path.sock` }).listen();
  try {
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/hot_path.sock`)).mode! & 0o777, 0o600);
  } finally {
    listener.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("UnixTransport refuses a socket directory other users can reach", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.chmod(dir, 0o755);
  try {
    await assert.rejects(
      new UnixTransport({ path: `${dir}/a.sock` }).listen(),
      (e) =>
        e instanceof TransportError && e.code === "TRANSPORT_INSECURE_PATH" && e.address === dir,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("UnixTransport refuses a path a live process listens on", async () => {
  const dir = await Deno.makeTempDir();
  const transport = new UnixTransport({ path: `${dir}/a.sock` });
  const first = await transport.listen();
  try {
    await assert.rejects(
      transport.listen(),
      (e) => e instanceof TransportError && e.code === "TRANSPORT_ADDRESS_IN_USE",
    );
  } finally {
    first.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("UnixTransport reports a missing socket as TRANSPORT_CONNECT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      new UnixTransport({ path: `${dir}/nobody.sock` }).dial(),
      (e) => e instanceof TransportError && e.code === "TRANSPORT_CONNECT",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
