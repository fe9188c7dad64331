/**
 * A client written from docs/wire_format.md and docs/link_protocol.md alone
 * (tests/testdata/link_client.py, Python standard library) completes a keyed
 * handshake with a real LinkListener and exchanges messages both ways; a wrong
 * or missing key and a disagreeing schema are refused.
 */
import assert from "node:assert/strict";
import {
  defineMessage,
  field,
  type Fields,
  type MessageOf,
  type MessageView,
  Registry,
} from "../../src/codec/mod.ts";
import type { InboundRoute, Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";

const CLIENT = new URL("../testdata/link_client.py", import.meta.url).pathname;
const KEY = "a key only these two know";

const hasPython = await new Deno.Command("python3", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);
const ignore = !hasPython; // No python3 on this machine: the client cannot run.

const kinds = {
  u8: field.u8(),
  u16: field.u16(),
  u32: field.u32(),
  u64: field.u64(),
  i8: field.i8(),
  i16: field.i16(),
  i32: field.i32(),
  i64: field.i64(),
  f32: field.f32(),
  f64: field.f64(),
  flag: field.bool(),
  u256: field.u256(),
  tag: field.bytes(4),
  text: field.string(),
  blob: field.varBytes(),
};
const Ping = defineMessage({
  id: 4001,
  name: "pyclient.Ping",
  fields: { seq: field.u32(), ...kinds },
});
const Pong = defineMessage({
  id: 4002,
  name: "pyclient.Pong",
  fields: { seq: field.u32(), ...kinds },
});
type Ping = MessageOf<typeof Ping>;
type Pong = MessageOf<typeof Pong>;

/** The Ping the client sends as number `seq` (the same formulas as the client's). */
function ping(seq: number): Ping {
  return {
    seq,
    u8: (seq * 50) % 256,
    u16: 40000 + seq,
    u32: 4_000_000_000 + seq,
    u64: (1n << 64n) - 1n - BigInt(seq),
    i8: -100 - seq,
    i16: -30000,
    i32: -2_000_000_000,
    i64: -(1n << 63n) + BigInt(seq),
    f32: 1.5 * seq,
    f64: -0.1 * seq,
    flag: seq % 2 === 1,
    u256: (1n << 255n) + BigInt(seq),
    tag: new Uint8Array([seq, 2, 3, 4]),
    text: `ping ${seq} mÿ🍄`,
    blob: Uint8Array.from({ length: seq }, (_, i) => i),
  };
}

/** The answer to a Ping: every field transformed, so the client can check each decode. */
function pongOf(p: Ping): Pong {
  return {
    seq: p.seq,
    u8: 255 - p.u8,
    u16: 65535 - p.u16,
    u32: 4294967295 - p.u32,
    u64: BigInt.asUintN(64, p.u64 * 3n),
    i8: -p.i8 - 1,
    i16: -p.i16 - 1,
    i32: -p.i32 - 1,
    i64: -p.i64 - 1n,
    f32: p.f32 * 2,
    f64: -p.f64,
    flag: !p.flag,
    u256: (1n << 256n) - 1n - p.u256,
    tag: p.tag.slice().reverse(),
    text: `pong: ${p.text}`,
    blob: new Uint8Array([...p.blob, 0xff]),
  };
}

interface Received {
  readonly ping: Ping;
  readonly route: InboundRoute;
}

/** A listener that answers every Ping with its Pong (a routed Ping with a routed reply). */
async function echoListener(transport: Transport, key: string | undefined) {
  const received: Received[] = [];
  const closed = Promise.withResolvers<Link>();
  const quiet = { error() {}, warn() {}, info() {} };
  const listener = await LinkListener.listen(transport, {
    registry: new Registry([Ping, Pong]),
    identity: "deno-listener",
    ...(key === undefined ? {} : { key }),
    logger: quiet,
    announcement: { actors: ["echo"], topics: ["#pyclient.Ping"] },
    handler: {
      message(view: MessageView<Fields>, route: InboundRoute, link: Link) {
        if (!Ping.isView(view)) return;
        const p = view.toObject();
        received.push({ ping: p, route: { ...route } });
        link.write(
          Pong,
          pongOf(p),
          route.kind === "send"
            ? { kind: "reply", to: route.from, from: route.to, correlation: route.correlation }
            : undefined,
        );
      },
      closed: (link) => closed.resolve(link),
    },
  });
  return { listener, received, closed: closed.promise };
}

interface ClientResult {
  readonly code: number;
  readonly out: Record<string, unknown>;
  readonly stderr: string;
}

async function runClient(args: string[]): Promise<ClientResult> {
  const out = await new Deno.Command("python3", {
    args: [CLIENT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(stdout);
  } catch {
    assert.fail(`client printed no JSON (exit ${out.code}): ${stdout}\n${stderr}`);
  }
  return { code: out.code, out: parsed, stderr };
}

function where(transport: Transport): string[] {
  return transport.kind === "unix" ? ["--unix", transport.address] : ["--tcp", transport.address];
}

async function withTransport(
  kind: "unix" | "tcp",
  fn: (transport: Transport) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_py_" });
  try {
    await fn(
      kind === "unix"
        ? new UnixTransport({ path: `${dir}/link.sock` })
        : new TcpTransport({ hostname: "127.0.0.1", port: 0 }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const kind of ["unix", "tcp"] as const) {
  Deno.test({
    name:
      `a Python client written from the specs completes a keyed handshake over ${kind} and exchanges messages both ways`,
    ignore,
    fn: () =>
      withTransport(kind, async (transport) => {
        const { listener, received, closed } = await echoListener(transport, KEY);
        try {
          const r = await runClient([
            "exchange",
            ...where(listener.transport),
            "--identity",
            "py-client",
            "--key",
            KEY,
          ]);
          assert.equal(r.code, 0, `${JSON.stringify(r.out)}\n${r.stderr}`);
          // The client decoded and checked every Pong, the routed one with its route.
          assert.deepStrictEqual(r.out.pongs, {
            1: null,
            2: null,
            3: { kind: "reply", to: "py-actor", from: "echo", correlation: 5 },
          });
          assert.equal(r.out.peer, "deno-listener");
          assert.equal(r.out.received, 4, "two plain Pongs, one Envelope and its Pong");
          assert.equal(
            r.out.ackedByListener,
            4,
            "the listener counted the client's frames the same way",
          );
          assert.deepStrictEqual(r.out.presence, { actors: ["echo"], topics: ["#pyclient.Ping"] });
          // The listener decoded the client's Pings, field for field, with their routes.
          assert.deepStrictEqual(received.map((x) => x.ping), [ping(1), ping(2), ping(3)]);
          assert.deepStrictEqual(received.map((x) => x.route), [
            { kind: "publish", to: "pyclient.Ping", from: "", correlation: 0 },
            { kind: "publish", to: "pyclient.Ping", from: "", correlation: 0 },
            { kind: "send", to: "echo", from: "py-actor", correlation: 5 },
          ]);
          // The client's Close ended the link; its acknowledgement covered every Pong.
          const link = await closed;
          assert.equal(link.peer, "py-client");
          assert.equal(link.stats.received, 3);
          assert.equal(link.stats.sent, 3);
          assert.equal(link.stats.undelivered, 0);
          assert.equal(listener.stats.authenticated, 1);
        } finally {
          await listener.close();
        }
      }),
  });
}

for (const file of ["handshake_keyed.txt", "handshake_keyless.txt"]) {
  Deno.test({
    name: `the Python client recomputes the key proofs of the golden ${file} from the spec`,
    ignore,
    async fn() {
      const path = new URL(`../testdata/link/${file}`, import.meta.url).pathname;
      const transcript = await Deno.readTextFile(path);
      const quoted = /^# key: ("[^"]*")/m.exec(transcript)?.[1];
      const key = quoted === undefined ? [] : ["--key", JSON.parse(quoted) as string];
      const r = await runClient(["golden", path, ...key]);
      assert.equal(r.code, 0, JSON.stringify(r.out));
      assert.deepStrictEqual(r.out.checks, {
        acceptorProof: true,
        dialerProof: true,
        dialerRef: true,
        ready: true,
      });
      const wrong = await runClient(["golden", path, "--key", `${key[1] ?? ""}!`]);
      assert.equal(wrong.code, 1, "another key must not reproduce the proofs");
    },
  });
}

Deno.test({
  name:
    "a LinkListener refuses a Python client with a wrong key or none, and the client refuses the listener's proof",
  ignore,
  fn: () =>
    withTransport("unix", async (transport) => {
      const { listener, received } = await echoListener(transport, KEY);
      try {
        const base = ["exchange", ...where(listener.transport), "--identity", "intruder"];
        // The client checks the listener's proof first: with a wrong key it fails.
        const byClient = await runClient([...base, "--key", "not the key"]);
        assert.equal(byClient.code, 2);
        assert.deepStrictEqual([byClient.out.error, byClient.out.by], ["TRANSPORT_AUTH", "client"]);
        // Sending its own (wrong) proof anyway: the listener refuses with an Error frame.
        const byListener = await runClient([...base, "--key", "not the key", "--trust"]);
        assert.equal(byListener.code, 2);
        assert.deepStrictEqual([byListener.out.error, byListener.out.by], [
          "TRANSPORT_AUTH",
          "listener",
        ]);
        // Without a key: an empty proof, refused the same way.
        const keyless = await runClient(base);
        assert.deepStrictEqual([keyless.out.error, keyless.out.by], ["TRANSPORT_AUTH", "listener"]);
        assert.equal(listener.links.size, 0, "no link for a refused peer");
        assert.equal(listener.stats.authenticated, 0);
        assert.equal(received.length, 0);
      } finally {
        await listener.close();
      }
    }),
});

Deno.test({
  name: "a LinkListener refuses a Python client whose Ping has another schema, naming the type",
  ignore,
  fn: () =>
    withTransport("unix", async (transport) => {
      const { listener } = await echoListener(transport, KEY);
      try {
        const r = await runClient([
          "exchange",
          ...where(listener.transport),
          "--identity",
          "old-client",
          "--key",
          KEY,
          "--bad-schema",
        ]);
        assert.equal(r.code, 2);
        assert.deepStrictEqual([r.out.error, r.out.by], ["TRANSPORT_SCHEMA_MISMATCH", "listener"]);
        assert.match(String(r.out.message), /pyclient\.Ping/);
      } finally {
        await listener.close();
      }
    }),
});
