/**
 * The NATS receiving process of `transport_bench.ts`.
 *
 * Usage: `_nats_peer.ts <port> <batch>`: connects to the nats-server on
 * 127.0.0.1:<port>; views every V2Swap published on `swaps` and publishes on
 * `swaps.done` once per `batch`; answers requests on `echo` with their data;
 * prints `ready`; exits when stdin closes.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { V2Swap } from "../src/cli/_bench_workload.ts";

const [port, batchText] = Deno.args;
const batch = Number(batchText);
const nc = await connect({ servers: `127.0.0.1:${port}` });
let count = 0;
let sum = 0n;
const done = new Uint8Array(8);
nc.subscribe("swaps", {
  callback: (_err, msg) => {
    sum += V2Swap.view(msg.data).timestampNs;
    if (++count === batch) {
      count = 0;
      nc.publish("swaps.done", done);
    }
  },
});
nc.subscribe("echo", {
  callback: (_err, msg) => {
    msg.respond(msg.data);
  },
});
await nc.flush();
Deno.stdout.writeSync(new TextEncoder().encode(`ready ${sum}\n`));
const buf = new Uint8Array(16);
while (await Deno.stdin.read(buf) !== null) { /* wait */ }
await nc.close();
