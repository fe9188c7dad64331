/**
 * Request → reply between two processes through the runtime, against the
 * bare link round trip of the same message in the same run.
 *
 * Each row sends one V2Swap and waits for the answer before the next:
 * - baseline: a bare `Link` to a peer that writes each V2Swap back;
 * - `bus.request`: a MessageBus joined by a BusNode to a peer process whose
 *   actor answers with `ctx.reply` (the path of `ctx.request` between groups).
 * - an actor awaiting `ctx.request` in its handler, one request per message
 *   it handles (what the trading executor does per signal).
 *
 * Run: `deno bench -A bench/request_bench.ts` (`MYCELIUM_BENCH_KIND=unix` for
 * Unix sockets; TCP by default).
 *
 * @module
 */
import { on } from "../src/actor/mod.ts";
import { MessageBus } from "../src/bus/message_bus.ts";
import { defineMessage, field, Registry } from "../src/codec/mod.ts";
import { benchSwap, V2Swap } from "../src/cli/_bench_workload.ts";
import { BusNode } from "../src/runtime/bus_node.ts";
import { Link } from "../src/transport/link.ts";
import { silentLogger } from "../src/transport/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { Transport } from "../src/transport/transport.ts";
import { UnixTransport } from "../src/transport/unix.ts";
import { startPeer } from "./_children.ts";

const PEER = new URL("./_request_peer.ts", import.meta.url).pathname;
const kind = Deno.env.get("MYCELIUM_BENCH_KIND") === "unix" ? "unix" : "tcp";
const N = 5000;
const WARMUP = 1000;
const children: Deno.ChildProcess[] = [];
const dir = kind === "unix" ? await Deno.makeTempDir({ prefix: "mycelium-request-bench-" }) : "";

/** Starts a peer process in `mode`; resolves with the transport to reach it. */
async function peer(mode: string): Promise<Transport> {
  const path = `${dir}/${mode}.sock`;
  const words = await startPeer(
    children,
    [
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      PEER,
      mode,
      kind,
      kind === "unix" ? path : "0",
    ],
    `request peer '${mode}'`,
  );
  const at = words[1]!;
  return kind === "unix" ? new UnixTransport({ path: at }) : new TcpTransport({ port: Number(at) });
}

const swap = benchSwap();

// --- bare link ----------------------------------------------------------------
let echoed: PromiseWithResolvers<void> | undefined;
const link = await Link.connect(await peer("link-echo"), {
  registry: new Registry([V2Swap]),
  identity: "bench-pinger",
  logger: silentLogger,
  handler: { message: () => echoed?.resolve() },
});

// --- runtime --------------------------------------------------------------------
const Go = defineMessage({ name: "RequestBenchGo", id: 0x7e01, fields: { n: field.u32() } });
let answered: PromiseWithResolvers<void> | undefined;
const bus = new MessageBus();
bus.spawn("asker", {
  handlers: [on(Go, async (_go, ctx) => {
    await ctx.request("responder", V2Swap, swap, { reply: V2Swap });
    answered?.resolve();
  })],
}, { subscribe: [] });
const node = await BusNode.start({
  bus,
  identity: "bench-requester",
  registry: new Registry([V2Swap]),
  dial: [{ identity: "bench-responder", transport: await peer("bus-reply") }],
});
await node.ready(["responder"], { timeoutMs: 10_000 });

Deno.bench({
  name: `bare ${kind} link, V2Swap echo`,
  group: `request ${kind}`,
  baseline: true,
  n: N,
  warmup: WARMUP,
  async fn() {
    echoed = Promise.withResolvers<void>();
    link.write(V2Swap, swap);
    await echoed.promise;
  },
});

Deno.bench({
  name: `runtime ${kind}, bus.request → ctx.reply`,
  group: `request ${kind}`,
  n: N,
  warmup: WARMUP,
  async fn() {
    await bus.request("responder", V2Swap, swap, { reply: V2Swap });
  },
});

Deno.bench({
  name: `runtime ${kind}, ctx.request in a handler`,
  group: `request ${kind}`,
  n: N,
  warmup: WARMUP,
  async fn() {
    answered = Promise.withResolvers<void>();
    bus.send("asker", Go, { n: 0 });
    await answered.promise;
  },
});

globalThis.addEventListener("unload", () => {
  for (const child of children) {
    try {
      child.stdin.close();
    } catch { /* already closed */ }
  }
  if (dir !== "") Deno.removeSync(dir, { recursive: true });
});
