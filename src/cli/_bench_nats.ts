/**
 * The NATS rows of `mycelium bench`, measured when `nats-server` is on the
 * PATH: a server started on a free loopback port, the peer (this program
 * re-run as `bench-peer --nats URL`) in another process. Round trip and
 * stream of a 144-byte V2Swap, Mycelium over NATS against the raw NATS
 * client measured in the same run (one pre-encoded frame, no routing).
 *
 * @module
 */
import { on } from "../actor/mod.ts";
import { MessageBus } from "../bus/message_bus.ts";
import { Registry } from "../codec/mod.ts";
import { NULL_LOGGER } from "../logger.ts";
import { LatencyRecorder } from "../metrics/mod.ts";
import { BusNode } from "../runtime/bus_node.ts";
import { selfCommand } from "../supervisor/mod.ts";
import { NatsTransport } from "../transport/nats.ts";
import { BenchError } from "./_bench_error.ts";
import { figures } from "./_bench_in_process.ts";
import { type BenchRow, benchRow } from "./_bench_report.ts";
import { benchSwap, V2Swap } from "./_bench_workload.ts";

const RAW = "mbench.raw";
const PREFIX = "mbench.my";
const GROUPS = ["bench", "bench-peer"];

/** Sizes of the NATS measurements. */
export interface NatsPlan {
  /** Messages per stream round. */
  messages: number;
  /** Round trips per variant. */
  roundTrips: number;
  /** Measured stream rounds per variant (one more warms up). */
  rounds: number;
  /** Stops the run. */
  signal?: AbortSignal;
}

/** Whether `nats-server` can be started here. */
export function natsServerAvailable(): boolean {
  try {
    return new Deno.Command("nats-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * The peer's side: answers raw echoes and counts raw streams on plain
 * subjects, and runs a bus with `echo` and `sink` actors reached over NATS.
 * Returns the function that closes it.
 */
export async function serveNats(url: string): Promise<() => Promise<void>> {
  const raw = await NatsTransport.connect({ servers: [url], name: "bench-peer.raw" });
  const done = V2Swap.toBytes(benchSwap(0n));
  let sum = 0n;
  raw.subscribe(`${RAW}.echo`, (m) => {
    if (m.reply !== undefined) raw.publish(m.reply, m.data);
  });
  raw.subscribe(`${RAW}.sink`, (m) => {
    const t = V2Swap.view(m.data).timestampNs;
    sum += t;
    if (t === 0n) raw.publish(`${RAW}.done`, done);
  });
  const wire = await NatsTransport.connect({ servers: [url], name: "bench-peer.bus" });
  const bus = new MessageBus();
  bus.spawn("echo", { handlers: [on(V2Swap, (m, ctx) => ctx.reply(V2Swap, m))] }, {
    views: true,
  });
  bus.spawn("sink", {
    handlers: [on(V2Swap, (m, ctx) => {
      const t = m.timestampNs;
      sum += t;
      if (t === 0n) return ctx.send("bench", V2Swap, m);
    })],
  }, { subscribe: [V2Swap], views: true });
  const node = await BusNode.start({
    bus,
    identity: "bench-peer",
    registry: new Registry([V2Swap]),
    logger: NULL_LOGGER,
    nats: { wire, peers: ["bench"], groups: GROUPS, subjectPrefix: PREFIX },
  });
  await raw.flush();
  return async () => {
    await bus.close({ deadlineMs: 0 });
    await node.close({ drainMs: 0 });
    await wire.close();
    await raw.close();
  };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Measures the NATS rows: starts nats-server and the peer, measures, and
 * stops both (by pid) whatever happened.
 *
 * @throws {BenchError} `BENCH_PEER` when the server or the peer fails,
 *   `BENCH_INTERRUPTED` when the signal aborts.
 */
export async function measureNats(plan: NatsPlan, dir: string): Promise<BenchRow[]> {
  const port = freePort();
  const url = `nats://127.0.0.1:${port}`;
  const server = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const closers: (() => Promise<void>)[] = [];
  let peer: Deno.ChildProcess | undefined;
  try {
    let raw: NatsTransport | undefined;
    for (let i = 0; raw === undefined; i++) {
      try {
        raw = await NatsTransport.connect({ servers: [url], name: "bench.raw", timeoutMs: 1000 });
      } catch (e) {
        if (i > 100) {
          throw new BenchError("BENCH_PEER", `nats-server did not start: ${String(e)}`, {
            stage: "nats",
          });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const rawConn = raw;
    closers.push(() => rawConn.close());
    const cmd = selfCommand(["bench-peer", "--dir", dir, "--nats", url], {
      probe: { read: [dir], write: [dir], net: ["127.0.0.1"] },
    });
    peer = new Deno.Command(cmd.command, {
      args: [...cmd.args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new BenchError("BENCH_PEER", "the NATS bench peer exited", { stage: "nats" });
      line += value;
    }
    reader.releaseLock();
    void peer.stdout.cancel().catch(() => {});

    const wire = await NatsTransport.connect({ servers: [url], name: "bench.bus" });
    const bus = new MessageBus();
    let streamDone: PromiseWithResolvers<void> | undefined;
    bus.spawn("bench", { handlers: [on(V2Swap, () => streamDone?.resolve())] });
    const node = await BusNode.start({
      bus,
      identity: "bench",
      registry: new Registry([V2Swap]),
      logger: NULL_LOGGER,
      nats: { wire, peers: ["bench-peer"], groups: GROUPS, subjectPrefix: PREFIX },
    });
    closers.push(async () => {
      await bus.close({ deadlineMs: 0 });
      await node.close({ drainMs: 0 });
      await wire.close();
    });
    await node.ready(["echo", "sink"], {
      timeoutMs: 10_000,
      ...(plan.signal === undefined ? {} : { signal: plan.signal }),
    });
    const check = () => {
      if (plan.signal?.aborted) {
        throw new BenchError("BENCH_INTERRUPTED", "interrupted", { stage: "nats" });
      }
    };

    // Round trips.
    const frame = V2Swap.toBytes(benchSwap(1n));
    let echoed: PromiseWithResolvers<void> | undefined;
    rawConn.subscribe(`${RAW}.inbox`, () => echoed?.resolve());
    const rawNs = new LatencyRecorder();
    const busNs = new LatencyRecorder();
    const one = benchSwap(1n);
    const warm = Math.min(200, plan.roundTrips);
    for (let i = 0; i < plan.roundTrips + warm; i++) {
      if (i % 50 === 0) check();
      let t0 = performance.now();
      echoed = Promise.withResolvers<void>();
      rawConn.publish(`${RAW}.echo`, frame, `${RAW}.inbox`);
      await echoed.promise;
      if (i >= warm) rawNs.record((performance.now() - t0) * 1e6);
      t0 = performance.now();
      await bus.request("echo", V2Swap, one, { reply: V2Swap, timeoutMs: 5000 });
      if (i >= warm) busNs.record((performance.now() - t0) * 1e6);
    }

    // Streams.
    const last = V2Swap.toBytes(benchSwap(0n));
    let rawDone: PromiseWithResolvers<void> | undefined;
    rawConn.subscribe(`${RAW}.done`, () => rawDone?.resolve());
    await rawConn.flush();
    const end = benchSwap(0n);
    let rawMs = 0, busMs = 0;
    for (let round = 0; round <= plan.rounds; round++) {
      check();
      let t0 = performance.now();
      rawDone = Promise.withResolvers<void>();
      for (let i = 1; i <= plan.messages; i++) {
        rawConn.publish(`${RAW}.sink`, i === plan.messages ? last : frame);
        if ((i & 4095) === 0) await rawConn.flush();
      }
      await rawDone.promise;
      if (round > 0) rawMs += performance.now() - t0;
      t0 = performance.now();
      streamDone = Promise.withResolvers<void>();
      for (let i = 1; i <= plan.messages; i++) {
        const r = bus.publish(V2Swap, i === plan.messages ? end : one);
        if (r !== undefined) await r;
      }
      await streamDone.promise;
      if (round > 0) busMs += performance.now() - t0;
    }
    const total = plan.messages * plan.rounds;
    const rawRtt = benchRow({
      id: "nats-raw-rtt",
      place: "nats",
      what: "raw NATS client request -> reply, 144 B",
      ...figures(rawNs),
      isFloor: true,
    });
    const rawStream = benchRow({
      id: "nats-raw-stream",
      place: "nats",
      what: "raw NATS client, one pre-encoded frame",
      msgPerSec: total / (rawMs / 1000),
      samples: total,
      isFloor: true,
    });
    return [
      rawRtt,
      benchRow({
        id: "nats-rtt",
        place: "nats",
        what: "Mycelium over NATS, V2Swap request -> reply",
        ...figures(busNs),
      }, rawRtt),
      rawStream,
      benchRow({
        id: "nats-stream",
        place: "nats",
        what: "Mycelium over NATS, V2Swap stream to a handler",
        msgPerSec: total / (busMs / 1000),
        samples: total,
      }, rawStream),
    ];
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    if (peer !== undefined) {
      try {
        await peer.stdin.close();
      } catch { /* closed */ }
      await peer.stderr.cancel().catch(() => {});
      await peer.status;
    }
    try {
      Deno.kill(server.pid, "SIGTERM");
    } catch { /* gone */ }
    await server.status;
  }
}
