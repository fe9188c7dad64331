/**
 * The receiving process of `nats_bench.ts`: a Mycelium bus joined to the
 * bench process over NATS or a TCP link.
 *
 * Usage: `_nats_bus_peer.ts <nats|tcp|raw> <identity> <nats url | -> <batch> <prefix> [groups]`
 * (groups: every group of the deployment, comma-separated).
 * Hosts `echo_<identity>` (answers each V2Swap request with the same swap)
 * and `sink_<identity>` (subscribed to V2Swap publishes; sends `Done` to the
 * bench's `bench` actor once per `batch`). With `tcp` it listens on a free
 * port and prints `ready <port>`; with `nats` it prints `ready -`. Exits
 * when stdin closes.
 *
 * With `raw` there is no bus: a plain NATS subscriber of `<prefix>.batches`,
 * whose messages hold frames back to back; it counts them (reading each
 * header's body length, decoding nothing) and publishes on `<prefix>.done`
 * once per `batch` frames: the floor of a fan-out over nats.js and
 * nats-server.
 *
 * @module
 */
import { on } from "../src/actor/mod.ts";
import { MessageBus } from "../src/bus/message_bus.ts";
import { HEADER_SIZE, Registry } from "../src/codec/mod.ts";
import { BusNode } from "../src/runtime/bus_node.ts";
import { NatsTransport } from "../src/transport/nats.ts";
import { NULL_LOGGER } from "../src/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import { V2Swap } from "../src/cli/_bench_workload.ts";
import { Done } from "./_nats_bench_messages.ts";

const [kind, identity, url, batchText, prefix, groups = ""] = Deno.args as [
  string,
  string,
  string,
  string,
  string,
  string?,
];
const batch = Number(batchText);
if (kind === "raw") await raw();
const bus = new MessageBus();
let count = 0;
let sum = 0n;
bus.spawn(`echo_${identity}`, {
  handlers: [on(V2Swap, (m, ctx) => ctx.reply(V2Swap, m))],
}, { views: true });
bus.spawn(`sink_${identity}`, {
  handlers: [
    on(V2Swap, (m, ctx) => {
      sum += m.timestampNs;
      if (++count === batch) {
        count = 0;
        return ctx.send("bench", Done, { n: batch });
      }
    }),
  ],
}, { subscribe: [V2Swap], views: true });
const registry = new Registry([V2Swap, Done]);
let nats: NatsTransport | undefined;
let node: BusNode;
if (kind === "nats") {
  nats = await NatsTransport.connect({ servers: [url] });
  node = await BusNode.start({
    bus,
    identity,
    registry,
    nats: {
      wire: nats,
      peers: ["bench"],
      groups: groups.split(","),
      subjectPrefix: prefix,
    },
  });
} else {
  node = await BusNode.start({
    bus,
    identity,
    registry,
    logger: NULL_LOGGER,
    listen: [new TcpTransport({ hostname: "127.0.0.1", port: 0 })],
  });
}
const port = kind === "tcp" ? node.transports[0]!.address.split(":").pop() : "-";
Deno.stdout.writeSync(new TextEncoder().encode(`ready ${port} ${sum}\n`));
const buf = new Uint8Array(16);
while (await Deno.stdin.read(buf) !== null) { /* wait */ }
await bus.close({ deadlineMs: 0 });
await node.close({ drainMs: 0 });
await nats?.close();

/** The `raw` subscriber: never returns (exits when stdin closes). */
async function raw(): Promise<never> {
  const nats = await NatsTransport.connect({ servers: [url] });
  let frames = 0;
  const done = new Uint8Array(8);
  nats.subscribe(`${prefix}.batches`, (m) => {
    const data = m.data;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at < data.length;) {
      // A frame's body length is in header bytes 8-11.
      at += HEADER_SIZE + dv.getUint32(at + 8, true);
      if (++frames === batch) {
        frames = 0;
        nats.publish(`${prefix}.done`, done);
      }
    }
  });
  await nats.flush();
  Deno.stdout.writeSync(new TextEncoder().encode(`ready -\n`));
  const buf = new Uint8Array(16);
  while (await Deno.stdin.read(buf) !== null) { /* wait */ }
  await nats.close();
  Deno.exit(0);
}
