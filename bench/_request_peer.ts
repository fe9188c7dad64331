/**
 * The answering process of `request_bench.ts`.
 *
 * Usage: `_request_peer.ts <mode> <unix|tcp> <path|0>`; prints
 * `ready <path|port>` once listening, and exits when stdin closes.
 * - `link-echo`: a bare link listener that writes back every V2Swap it reads.
 * - `bus-reply`: a MessageBus joined by a BusNode, hosting actor `responder`,
 *   whose handler answers each V2Swap request with `ctx.reply` (a V2Swap).
 *
 * @module
 */
import { on } from "../src/actor/mod.ts";
import { MessageBus } from "../src/bus/message_bus.ts";
import { Registry } from "../src/codec/mod.ts";
import { V2Swap } from "../src/cli/_bench_workload.ts";
import { BusNode } from "../src/runtime/bus_node.ts";
import { LinkListener } from "../src/transport/listener.ts";
import { silentLogger } from "../src/transport/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import { UnixTransport } from "../src/transport/unix.ts";

const [mode, kind, address] = Deno.args;
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
const transport = kind === "unix"
  ? new UnixTransport({ path: address! })
  : new TcpTransport({ port: Number(address) });
const bound = (a: string) => kind === "unix" ? a : a.slice(a.lastIndexOf(":") + 1);

const stdinClosed = (async () => {
  const buf = new Uint8Array(16);
  while (await Deno.stdin.read(buf) !== null) { /* wait */ }
})();

if (mode === "link-echo") {
  const listener = await LinkListener.listen(transport, {
    registry: new Registry([V2Swap]),
    identity: "bench-echo",
    logger: silentLogger,
    handler: {
      message(view, _route, link) {
        if (V2Swap.isView(view)) link.write(V2Swap, view);
      },
    },
  });
  say(`ready ${bound(listener.transport.address)}`);
  await stdinClosed;
  await listener.close();
} else {
  const bus = new MessageBus();
  bus.spawn("responder", {
    handlers: [on(V2Swap, (swap, ctx) => ctx.reply(V2Swap, swap))],
  });
  const node = await BusNode.start({
    bus,
    identity: "bench-responder",
    registry: new Registry([V2Swap]),
    listen: [transport],
  });
  say(`ready ${bound(node.transports[0]!.address)}`);
  await stdinClosed;
  await node.close({ drainMs: 0 });
  await bus.close();
}
Deno.exit(0);
