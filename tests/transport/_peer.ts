/**
 * A peer process for the multi-process tests, run with `Deno.Command`.
 *
 * Usage: `_peer.ts <role> <kind> <address> <identity> [count]`
 * - kind: `unix` (address = socket path), `tcp` or `tls` (address = port; for
 *   tls, `MYCELIUM_TEST_CERTS` names the directory holding the test certificates).
 * - role `echo`: listens (port 0 when address is 0); prints `ready <port|path>`;
 *   answers every request with a reply carrying `n * 2`, and every other `Num`
 *   with a publish of the same `n`. Runs until killed or stdin closes.
 * - role `pingpong`: dials, sends `count` requests, checks the replies, answers
 *   the server's own publishes back, prints `done <count> <echoed>`.
 * - role `echo-dialer`: dials, answers every `Num` with a publish of the same
 *   `n`, prints `ready`; runs until killed or stdin closes.
 * - role `subscriber`: dials, announces topic `numbers`, waits for `count`
 *   numbers, checks their order, sends the publisher a `Num` (count, and the
 *   sum in its note), prints `got <identity> <count> <sum>`.
 *
 * @module
 */
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { silentLogger } from "../../src/transport/logger.ts";
import { Num, registry } from "./_helpers.ts";

const [role, kind, address, identity, countText] = Deno.args;
const count = Number(countText ?? "0");
const out = new TextEncoder();
const say = (line: string) => Deno.stdout.writeSync(out.encode(line + "\n"));

function transport(): Transport {
  if (kind === "unix") return new UnixTransport({ path: address! });
  const port = Number(address);
  if (kind === "tcp") return new TcpTransport({ port });
  const dir = Deno.env.get("MYCELIUM_TEST_CERTS")!;
  return new TcpTransport({
    port,
    tls: {
      certFile: `${dir}/server.pem`,
      keyFile: `${dir}/server.key`,
      caFile: `${dir}/ca.pem`,
    },
  });
}

async function untilStdinCloses(): Promise<void> {
  const buf = new Uint8Array(64);
  while (await Deno.stdin.read(buf) !== null) { /* wait */ }
}

if (role === "echo") {
  const listener = await LinkListener.listen(transport(), {
    registry: registry(),
    identity: identity!,
    logger: silentLogger,
    handler: {
      message(view, route, link) {
        if (!Num.isView(view)) return;
        if (route.kind === "request") {
          link.write(Num, { n: view.n * 2, note: view.note }, {
            kind: "reply",
            to: route.from,
            from: identity!,
            correlation: route.correlation,
          });
        } else {
          link.write(Num, { n: view.n, note: "echo" });
        }
      },
    },
  });
  const bound = listener.transport.address;
  say(`ready ${kind === "unix" ? bound : bound.slice(bound.lastIndexOf(":") + 1)}`);
  await untilStdinCloses();
  await listener.close();
} else if (role === "pingpong") {
  let replies = 0;
  let echoed = 0;
  let bad = 0;
  const done = Promise.withResolvers<void>();
  const link = await Link.connect(transport(), {
    registry: registry(),
    identity: identity!,
    logger: silentLogger,
    handler: {
      message(view, route, l) {
        if (!Num.isView(view)) return;
        if (route.kind === "reply") {
          if (view.n !== replies * 2 || route.correlation !== replies) bad++;
          replies++;
        } else {
          l.write(Num, { n: view.n, note: "back" });
          echoed++;
        }
        if (replies === count) done.resolve();
      },
    },
  });
  for (let i = 0; i < count; i++) {
    await link.send(Num, { n: i, note: "" }, {
      kind: "request",
      to: "echo",
      from: "pinger",
      correlation: i,
    });
  }
  await done.promise;
  await link.drained();
  say(`done ${replies} ${echoed} bad=${bad}`);
  await link.close();
} else if (role === "echo-dialer") {
  const link = await Link.connect(transport(), {
    registry: registry(),
    identity: identity!,
    logger: silentLogger,
    handler: {
      message(view, _route, l) {
        if (Num.isView(view)) l.write(Num, { n: view.n, note: "echo" });
      },
    },
  });
  say("ready");
  await untilStdinCloses();
  await link.close();
} else if (role === "subscriber") {
  let next = 0;
  let sum = 0;
  let bad = 0;
  const done = Promise.withResolvers<void>();
  const link = await Link.connect(transport(), {
    registry: registry(),
    identity: identity!,
    logger: silentLogger,
    announcement: { actors: [identity!], topics: ["numbers"] },
    handler: {
      message(view) {
        if (!Num.isView(view)) return;
        if (view.n !== next) bad++;
        next = view.n + 1;
        sum += view.n;
        if (next === count) done.resolve();
      },
    },
  });
  await done.promise;
  // Answer the publisher: how many, and their sum.
  await link.send(Num, { n: next, note: `sum ${sum}` }, {
    kind: "send",
    to: "publisher",
    from: identity!,
  });
  await link.drained();
  say(`got ${identity} ${next} ${sum} bad=${bad}`);
  await link.close();
}
