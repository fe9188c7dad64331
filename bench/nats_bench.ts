/**
 * NATS benchmarks, 144-byte V2Swap frames, sender (this process) and
 * receivers (child processes running `_nats_bus_peer.ts` or `_nats_peer.ts`)
 * in separate processes, one `nats-server` on 127.0.0.1 started here:
 *
 * - `nats round trip`: a request and its reply. Baseline: raw
 *   `@nats-io/transport-node` `request` answered by `_nats_peer.ts` (the
 *   floor of this tier); Mycelium over NATS (`bus.request` to an actor in the
 *   other process); Mycelium over its own TCP link.
 * - `nats stream`: N swaps until the receiver's handler saw the last.
 *   Baseline: raw nats.js publishing one pre-encoded frame (no encode cost);
 *   Mycelium over NATS (`bus.publish`, encoded per message); Mycelium TCP link.
 * - `fan-out 3`: N swaps published to 3 subscriber processes. Baseline:
 *   three point-to-point TCP links (the bus writes each swap three times);
 *   Mycelium over NATS (one publish; the server fans out); and the floor of
 *   any fan-out over nats.js and nats-server: raw nats.js publishing
 *   pre-encoded frames 16 KiB a message to plain subscribers that count
 *   them (no encoding, decoding, envelopes, numbering, credit or actors).
 *
 * Round trips are measured in pairs: beside each trip of a Mycelium row, the
 * row makes one raw nats.js request (outside its own timing; before it on
 * even calls, after it on odd ones), and the summary compares the row with
 * those raw trips. Rows run one after another,
 * and on a shared machine, or one with fewer cores than processes, the load
 * changes between them: measured as separate rows, Mycelium over NATS came
 * out at 0.86x to 1.54x the raw p50 from one run to the next. Trips taken in
 * turn see the same load. The raw row keeps its own figures (Deno's table
 * compares the rows as run, one after another). Each row takes 10,000 trips:
 * a p99 rests on its slowest 1 %, and with 3,000 (30 trips) the Mycelium/raw
 * p99 ratio swung from 1.09x to 1.61x between runs here; with 10,000 it came
 * out at 0.99x to 1.16x over three runs.
 *
 * Mycelium over NATS sends the frames one task publishes to one subject as
 * one NATS message (up to 16 KiB); the raw baseline publishes one message
 * per frame, as a user of the client would.
 *
 * Skipped, with a note, when `nats-server` is not installed. At the end the
 * file prints its own table with ratios measured in the same run and, on
 * Linux, the CPU time every process of a stream row spent per delivery
 * (this one, nats-server, the receivers): with fewer cores than processes
 * a row's rate is bounded by it.
 *
 * Run: `cd bench && deno bench -A nats_bench.ts` (without `-A` the CPU figures
 * are left out: Deno reads `/proc` only with every permission)
 *
 * @module
 */
import { on } from "../src/actor/mod.ts";
import { MessageBus } from "../src/bus/message_bus.ts";
import { Registry } from "../src/codec/mod.ts";
import { benchSwap, V2Swap } from "../src/cli/_bench_workload.ts";
import { BusNode } from "../src/runtime/bus_node.ts";
import { NatsTransport } from "../src/transport/nats.ts";
import { NULL_LOGGER } from "../src/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import { Done } from "./_nats_bench_messages.ts";
import {
  connectNats,
  CPU_UNREAD,
  cpuMs,
  freePort,
  startNatsServer,
  startPeer,
} from "./_children.ts";

const N = 100_000;
const STREAM_RUNS = 8;
const TRIPS = 10_000;
const STREAM_WARMUP = 2;
const TRIP_WARMUP = 300;
const BUS_PEER = new URL("./_nats_bus_peer.ts", import.meta.url).pathname;
const RAW_PEER = new URL("./_nats_peer.ts", import.meta.url).pathname;
const children: Deno.ChildProcess[] = [];
const cleanup: (() => Promise<void>)[] = [];

const swap = benchSwap();

/** Starts a child; resolves with the words of the line it printed first. */
function child(args: string[]): Promise<string[]> {
  return startPeer(children, ["--allow-read", "--allow-net", "--allow-env", ...args], args[0]!);
}

const streams = new Map<string, number[]>();
/** CPU ms per measured stream run: this process, nats-server, the children (receivers). */
const cpu = new Map<string, Cpu[]>();
const trips = new Map<string, number[]>();
/** Per round trip row, the raw nats.js round trips taken in turn with its own. */
const between = new Map<string, number[]>();
const calls = new Map<string, number>();

function measured(name: string, warmup: number): boolean {
  const n = (calls.get(name) ?? 0) + 1;
  calls.set(name, n);
  return n > warmup;
}

function keep(
  table: Map<string, number[]>,
  name: string,
  ms: number,
  warmup: number,
  spent?: Cpu,
): void {
  if (!measured(name, warmup)) return;
  let s = table.get(name);
  if (s === undefined) table.set(name, s = []);
  s.push(ms);
  if (spent !== undefined) {
    let c = cpu.get(name);
    if (c === undefined) cpu.set(name, c = []);
    c.push(spent);
  }
}

/** CPU ms of this process, of nats-server and of every child so far (idle ones add nothing). */
type Cpu = readonly [self: number, server: number, children: number];

function cpuNow(): Cpu {
  let ms = 0;
  for (const c of children) ms += cpuMs(c.pid);
  return [cpuMs("self"), server === undefined ? 0 : cpuMs(server.pid), ms];
}

function cpuSince(c0: Cpu): Cpu {
  const c1 = cpuNow();
  return [c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2]];
}

/** The bench side of a Mycelium deployment: a bus with a `bench` actor counting `Done`. */
async function benchBus(
  kind: "nats" | "tcp",
  peers: string[],
  natsUrl: string,
  prefix: string,
) {
  const bus = new MessageBus();
  let want = 0;
  let waiter: PromiseWithResolvers<void> | undefined;
  bus.spawn("bench", {
    handlers: [
      on(Done, () => {
        if (--want === 0) waiter?.resolve();
      }),
    ],
  });
  const registry = new Registry([V2Swap, Done]);
  let nats: NatsTransport | undefined;
  let node: BusNode;
  if (kind === "nats") {
    nats = await NatsTransport.connect({ servers: [natsUrl] });
    const groups = ["bench", ...peers].join(",");
    for (const p of peers) {
      await child([BUS_PEER, "nats", p, natsUrl, String(N), prefix, groups]);
    }
    node = await BusNode.start({
      bus,
      identity: "bench",
      registry,
      nats: {
        wire: nats,
        peers,
        groups: ["bench", ...peers],
        subjectPrefix: prefix,
      },
    });
  } else {
    const dial = [];
    for (const p of peers) {
      const [, port] = await child([
        BUS_PEER,
        "tcp",
        p,
        "-",
        String(N),
        prefix,
      ]);
      dial.push({
        identity: p,
        transport: new TcpTransport({ port: Number(port) }),
      });
    }
    node = await BusNode.start({
      bus,
      identity: "bench",
      registry,
      logger: NULL_LOGGER,
      dial,
    });
  }
  await node.ready(peers.flatMap((p) => [`echo_${p}`, `sink_${p}`]), {
    timeoutMs: 10_000,
  });
  cleanup.push(async () => {
    await bus.close({ deadlineMs: 0 });
    await node.close({ drainMs: 0 });
    await nats?.close();
  });
  return {
    bus,
    /** Publishes N swaps; resolves when every subscriber has seen them. */
    async stream(): Promise<void> {
      want = peers.length;
      waiter = Promise.withResolvers<void>();
      for (let i = 0; i < N; i++) {
        const r = bus.publish(V2Swap, swap);
        if (r !== undefined) await r;
      }
      await waiter.promise;
    },
  };
}

/**
 * The floor of any fan-out over nats.js and nats-server: N pre-encoded
 * frames, as many as fit in 16 KiB a message (Mycelium's batch), published
 * with raw nats.js to 3 plain subscriber processes (`_nats_bus_peer.ts raw`)
 * that count them (each header read, nothing decoded). No encoding,
 * decoding, envelopes, numbering, credit or actors. Returns the run.
 */
async function rawFanOut(
  nc: Awaited<ReturnType<typeof connectNats>>,
  frame: Uint8Array,
  natsUrl: string,
  prefix: string,
): Promise<() => Promise<void>> {
  for (const p of ["r1", "r2", "r3"]) await child([BUS_PEER, "raw", p, natsUrl, String(N), prefix]);
  let want = 0;
  let waiter: PromiseWithResolvers<void> | undefined;
  nc.subscribe(`${prefix}.done`, {
    callback: () => {
      if (--want === 0) waiter?.resolve();
    },
  });
  await nc.flush();
  const per = Math.floor(16 * 1024 / frame.length);
  const payload = new Uint8Array(per * frame.length);
  for (let i = 0; i < per; i++) payload.set(frame, i * frame.length);
  return async () => {
    want = 3;
    waiter = Promise.withResolvers<void>();
    for (let sent = 0, i = 1; sent < N; sent += per, i++) {
      const n = Math.min(per, N - sent);
      nc.publish(`${prefix}.batches`, n === per ? payload : payload.subarray(0, n * frame.length));
      // About 2 MiB between flushes (Mycelium asks a server to confirm every 2 MiB).
      if (i % 128 === 0) await nc.flush();
    }
    await waiter.promise;
  };
}

const port = freePort();
const server = startNatsServer(port, "NATS benchmarks");

if (server !== undefined) {
  const url = `nats://127.0.0.1:${port}`;
  const raw = await connectNats(port);
  await child([RAW_PEER, String(port), String(N)]);
  cleanup.push(() => raw.close());
  const frame = V2Swap.toBytes(swap);
  let rawDone: PromiseWithResolvers<void> | undefined;
  raw.subscribe("swaps.done", { callback: () => rawDone?.resolve() });
  await raw.flush();

  const overNats = await benchBus("nats", ["p1"], url, "bench1");
  const overTcp = await benchBus("tcp", ["t1"], url, "");
  const fanNats = await benchBus("nats", ["f1", "f2", "f3"], url, "bench3");
  const fanTcp = await benchBus("tcp", ["u1", "u2", "u3"], url, "");
  const fanRaw = await rawFanOut(raw, frame, url, "bench3raw");

  // --- round trips ---------------------------------------------------------------
  Deno.bench({
    name: "raw nats.js request/reply (floor)",
    group: "nats round trip",
    baseline: true,
    n: TRIPS,
    warmup: TRIP_WARMUP,
    async fn() {
      const t0 = performance.now();
      await raw.request("echo", frame, { timeout: 5000 });
      keep(trips, "raw nats", performance.now() - t0, TRIP_WARMUP);
    },
  });
  const trip = (name: string, bus: MessageBus, to: string) =>
    Deno.bench({
      name,
      group: "nats round trip",
      n: TRIPS,
      warmup: TRIP_WARMUP,
      async fn(b) {
        // A raw trip beside each of this row's, outside its timing: the two kinds take turns (see
        // the module doc), the raw one first on even calls and second on odd ones, so neither
        // always follows the other.
        const rawTrip = async () => {
          const r0 = performance.now();
          await raw.request("echo", frame, { timeout: 5000 });
          return performance.now() - r0;
        };
        const rawFirst = ((calls.get(name) ?? 0) & 1) === 0;
        const rawBefore = rawFirst ? await rawTrip() : 0;
        b.start();
        const t0 = performance.now();
        await bus.request(to, V2Swap, swap, { reply: V2Swap, timeoutMs: 5000 });
        const ms = performance.now() - t0;
        b.end();
        const rawMs = rawFirst ? rawBefore : await rawTrip();
        if (!measured(name, TRIP_WARMUP)) return;
        for (const [table, value] of [[trips, ms], [between, rawMs]] as const) {
          let s = table.get(name);
          if (s === undefined) table.set(name, s = []);
          s.push(value);
        }
      },
    });
  trip("Mycelium over NATS, request/reply", overNats.bus, "echo_p1");
  trip("Mycelium TCP link, request/reply", overTcp.bus, "echo_t1");

  // --- streams ---------------------------------------------------------------------
  Deno.bench({
    name: "raw nats.js publish → subscriber process (floor)",
    group: "nats stream",
    baseline: true,
    n: STREAM_RUNS,
    warmup: STREAM_WARMUP,
    async fn(b) {
      b.start();
      const c0 = cpuNow();
      const t0 = performance.now();
      rawDone = Promise.withResolvers<void>();
      for (let i = 0; i < N; i++) {
        raw.publish("swaps", frame);
        if ((i & 4095) === 4095) await raw.flush();
      }
      await rawDone.promise;
      keep(streams, "raw nats", performance.now() - t0, STREAM_WARMUP, cpuSince(c0));
      b.end();
    },
  });
  const stream = (
    name: string,
    group: string,
    run: () => Promise<void>,
    baseline = false,
  ) =>
    Deno.bench({
      name,
      group,
      baseline,
      n: STREAM_RUNS,
      warmup: STREAM_WARMUP,
      async fn(b) {
        b.start();
        const c0 = cpuNow();
        const t0 = performance.now();
        await run();
        keep(streams, name, performance.now() - t0, STREAM_WARMUP, cpuSince(c0));
        b.end();
      },
    });
  stream(
    "Mycelium over NATS, publish → subscriber process",
    "nats stream",
    overNats.stream,
  );
  stream(
    "Mycelium TCP link, publish → subscriber process",
    "nats stream",
    overTcp.stream,
  );
  stream(
    "three TCP links, publish → 3 subscriber processes",
    "fan-out 3",
    fanTcp.stream,
    true,
  );
  stream(
    "Mycelium over NATS, publish → 3 subscriber processes",
    "fan-out 3",
    fanNats.stream,
  );
  stream(
    "raw nats.js, 16 KiB of frames a message → 3 processes counting them (floor)",
    "fan-out 3",
    fanRaw,
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ??
    NaN;
}

globalThis.addEventListener("unload", () => {
  if (server === undefined) return;
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  const lines = [
    "",
    "nats summary (same run; 144-byte V2Swap; receivers in other processes)",
  ];
  for (const [name, s] of trips) {
    s.sort((a, b) => a - b);
    const p50 = percentile(s, 0.5);
    const p99 = percentile(s, 0.99);
    const r = between.get(name)?.sort((a, b) => a - b);
    const vs = r === undefined
      ? ""
      : `; raw nats.js in turn with it: p50 ${us(percentile(r, 0.5))} p99 ${
        us(percentile(r, 0.99))
      } (${(p50 / percentile(r, 0.5)).toFixed(2)}x raw p50, ${
        (p99 / percentile(r, 0.99)).toFixed(2)
      }x raw p99)`;
    lines.push(`round trip  ${name}: p50 ${us(p50)} p99 ${us(p99)}${vs}`);
  }
  const median = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
  const rate = (name: string, deliveries: number) => {
    const s = streams.get(name);
    return s === undefined ? undefined : (N * deliveries) / median(s) * 1000;
  };
  const rawRate = rate("raw nats", 1);
  for (const name of streams.keys()) {
    const fan = name.includes("→ 3 ");
    const r = rate(name, fan ? 3 : 1)!;
    const vs = fan
      ? (() => {
        const tcp = rate(
          "three TCP links, publish → 3 subscriber processes",
          3,
        );
        return tcp === undefined ? "" : ` (${(r / tcp).toFixed(2)}x three TCP links per delivery)`;
      })()
      : rawRate === undefined
      ? ""
      : ` (${(r / rawRate).toFixed(2)}x raw nats.js rate)`;
    // Summed over the measured runs: /proc counts 10 ms ticks, 0.1 µs a delivery in one run of N.
    const c = cpu.get(name);
    const per = c === undefined
      ? undefined
      : [0, 1, 2].map((i) =>
        c.reduce((sum, x) => sum + x[i]!, 0) * 1000 / (c.length * N * (fan ? 3 : 1))
      );
    lines.push(
      `stream      ${name}: ${(r / 1e6).toFixed(3)} M deliveries/s${vs}` +
        (per === undefined || per.some(Number.isNaN)
          ? ""
          : `, CPU ${(per[0]! + per[1]! + per[2]!).toFixed(3)} µs/delivery ` +
            `(this process ${per[0]!.toFixed(3)}, nats-server ${per[1]!.toFixed(3)}, ` +
            `receivers ${per[2]!.toFixed(3)})`),
    );
  }
  if ([...cpu.values()].some((c) => c.some((x) => x.some(Number.isNaN)))) lines.push(CPU_UNREAD);
  // deno-lint-ignore no-console
  console.log(lines.join("\n"));
  for (const c of children) {
    try {
      c.stdin.close();
    } catch { /* closed */ }
  }
  try {
    server.kill("SIGTERM");
  } catch { /* gone */ }
});

// Deno runs the benchmarks after this module's top level; connections close at unload.
void cleanup;
