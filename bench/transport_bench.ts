/**
 * Transport benchmarks: a Mycelium link against the raw Deno socket floor,
 * sender (this process) and receiver (a child process running
 * `_transport_peer.ts`) in separate processes, 144-byte V2Swap frames.
 *
 * - `stream <kind>`: N messages end to end (encode → socket → decode →
 *   handler), timed until the receiver's handler has seen the last one (it
 *   answers once per N). Baseline: the raw socket with 64 KiB writes of
 *   pre-encoded frames and a receiver that only counts bytes. Also shown
 *   (not a baseline): the raw socket doing by hand the codec work any
 *   transport must do per message, so the summary can tell the link's own
 *   cost from the codec's: each swap encoded with `V2Swap.encode` into a
 *   64 KiB buffer written when full, and a receiver that cuts frames by
 *   their header and reads the field the link's handler reads. The link
 *   does more than that floor (a view per message, acknowledgements,
 *   bounds); the pre-encoded floor does less than any transport can. Two
 *   link rows: the handler reads a zero-copy view (what a bus subscriber
 *   gets with `views`), and the handler gets a plain object (`toObject()`,
 *   what the bus hands every other handler, decoded once per process).
 * - `round trip <kind>`: one message out, its echo back. Baseline: raw socket
 *   ping-pong of one 144-byte frame.
 *
 * - the same two measurements through NATS (a `nats-server` on 127.0.0.1
 *   started by this file, client `@nats-io/transport-node`), the peer a user
 *   would otherwise pick. Skipped, with a note, when `nats-server` is not
 *   installed (Debian: `apt-get install -y nats-server`). The NATS publisher
 *   sends one pre-encoded frame over and over (no encode cost: in NATS's favour).
 *
 * `deno bench` times each iteration; since one streaming iteration moves N
 * messages, messages per second = N / time per iteration. At the end the file
 * prints its own table: msg/s for streams, p50/p99 for round trips, and ratios
 * to the floor measured in the same run, and on Linux the CPU time the
 * sender (this process) and the receiver spent per message in each stream
 * row: the pre-encoded floor's sender spends nearly all of it in `write`, so
 * a sender that also encodes each message has no spare time to hide that in.
 *
 * Run: `cd bench && deno bench -A transport_bench.ts` (without `-A` the CPU
 * figures are left out: Deno reads `/proc` only with every permission)
 *
 * @module
 */
import { Registry } from "../src/codec/mod.ts";
import { benchSwap, V2Swap } from "../src/cli/_bench_workload.ts";
import { Link, WRITE_RESULT } from "../src/transport/link.ts";
import { silentLogger } from "../src/transport/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import { UnixTransport } from "../src/transport/unix.ts";
import {
  connectNats,
  CPU_UNREAD,
  cpuMs,
  freePort,
  startNatsServer,
  startPeer,
  stopChildren,
} from "./_children.ts";

const N = 200_000;
const FRAME = 144;
const PEER = new URL("./_transport_peer.ts", import.meta.url).pathname;
const NATS_PEER = new URL("./_nats_peer.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "mycelium-bench-" });
const children: Deno.ChildProcess[] = [];
const registry = new Registry([V2Swap]);

const swap = benchSwap();

/** Starts a receiver; resolves with the address it printed. */
async function peer(
  mode: string,
  kind: "unix" | "tcp",
  batch: number,
): Promise<string> {
  const where = kind === "unix" ? `${dir}/${mode}.sock` : "0";
  const words = await startPeer(
    children,
    ["--allow-read", "--allow-write", "--allow-net", PEER, mode, kind, where, String(batch)],
    `${mode} peer`,
  );
  return words[1]!;
}

async function rawConn(
  kind: "unix" | "tcp",
  address: string,
): Promise<Deno.Conn> {
  if (kind === "unix") {
    return await Deno.connect({ transport: "unix", path: address });
  }
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(address),
  });
  conn.setNoDelay(true);
  return conn;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** Bytes of N pre-encoded frames, in 64 KiB writes. */
const chunkFrames = Math.floor(65536 / FRAME);
const chunk = new Uint8Array(chunkFrames * FRAME);
for (let i = 0; i < chunkFrames; i++) V2Swap.encode(swap, chunk, i * FRAME);

/** Results for the closing table. */
const streams = new Map<
  string,
  { messages: number; ms: number; senderCpuMs: number; receiverCpuMs: number }
>();
const trips = new Map<string, number[]>();

const STREAM_WARMUP = 5;
const TRIP_WARMUP = 500;
const calls = new Map<string, number>();

/** Whether this call of `name` is past its warm-up (Deno's warm-up runs call `fn` too). */
function measured(name: string, warmup: number): boolean {
  const n = (calls.get(name) ?? 0) + 1;
  calls.set(name, n);
  return n > warmup;
}

/** CPU ms so far of this process and of the receiver `pid`. */
function cpuPair(pid: number): readonly [number, number] {
  return [cpuMs("self"), cpuMs(pid)];
}

/** The pid of the peer started last. */
function lastPid(): number {
  return children.at(-1)!.pid;
}

/** Keeps one stream run: its time and, given the CPU pair at its start, the CPU both sides spent. */
function record(name: string, ms: number, receiver?: number, c0?: readonly [number, number]): void {
  if (!measured(name, STREAM_WARMUP)) return;
  const r = streams.get(name) ?? { messages: 0, ms: 0, senderCpuMs: 0, receiverCpuMs: 0 };
  r.messages += N;
  r.ms += ms;
  if (receiver !== undefined && c0 !== undefined) {
    const c1 = cpuPair(receiver);
    r.senderCpuMs += c1[0] - c0[0];
    r.receiverCpuMs += c1[1] - c0[1];
  } else {
    r.senderCpuMs = r.receiverCpuMs = NaN;
  }
  streams.set(name, r);
}

function sample(name: string, ms: number): void {
  if (!measured(name, TRIP_WARMUP)) return;
  let s = trips.get(name);
  if (s === undefined) trips.set(name, s = []);
  s.push(ms);
}

for (const kind of ["unix", "tcp"] as const) {
  // --- streaming -----------------------------------------------------------
  const rawSink = await rawConn(kind, await peer("raw-sink", kind, N));
  const rawPid = lastPid();
  const one = new Uint8Array(1);
  Deno.bench({
    name: `raw ${kind} socket, 64 KiB writes (floor)`,
    group: `stream ${kind}`,
    baseline: true,
    n: 12,
    warmup: STREAM_WARMUP,
    async fn(b) {
      b.start();
      const c0 = cpuPair(rawPid);
      const t0 = performance.now();
      let left = N;
      while (left > 0) {
        const frames = Math.min(left, chunkFrames);
        await writeAll(rawSink, chunk.subarray(0, frames * FRAME));
        left -= frames;
      }
      await rawSink.read(one);
      record(`raw ${kind}`, performance.now() - t0, rawPid, c0);
      b.end();
    },
  });

  const codecSink = await rawConn(kind, await peer("raw-decode-sink", kind, N));
  const codecPid = lastPid();
  const codecChunk = new Uint8Array(chunk.length);
  Deno.bench({
    name: `raw ${kind} socket, encode + decode by hand`,
    group: `stream ${kind}`,
    n: 12,
    warmup: STREAM_WARMUP,
    async fn(b) {
      b.start();
      const c0 = cpuPair(codecPid);
      const t0 = performance.now();
      let at = 0;
      for (let i = 0; i < N; i++) {
        at = V2Swap.encode(swap, codecChunk, at);
        if (at + FRAME > codecChunk.length) {
          await writeAll(codecSink, codecChunk.subarray(0, at));
          at = 0;
        }
      }
      if (at > 0) await writeAll(codecSink, codecChunk.subarray(0, at));
      await codecSink.read(one);
      if (one[0] !== 0) throw new Error("raw-decode-sink read a wrong timestampNs");
      record(`codec ${kind}`, performance.now() - t0, codecPid, c0);
      b.end();
    },
  });

  // The peer answers once per N with the count of messages whose field was wrong (0).
  for (
    const [mode, label, title] of [
      ["link-sink", "link", "V2Swap end to end (handler reads views)"],
      ["link-sink-plain", "link plain", "V2Swap end to end, handler gets plain objects"],
    ] as const
  ) {
    let sinkDone: PromiseWithResolvers<void> | undefined;
    const sink = await Link.connect(
      kind === "unix"
        ? new UnixTransport({ path: await peer(mode, kind, N) })
        : new TcpTransport({ port: Number(await peer(mode, kind, N)) }),
      {
        registry,
        identity: `bench-sender-${kind}`,
        logger: silentLogger,
        handler: {
          message(view) {
            if (V2Swap.isView(view) && view.timestampNs !== 0n) {
              sinkDone?.reject(new Error(`${mode}: ${view.timestampNs} messages read wrong`));
            } else sinkDone?.resolve();
          },
        },
      },
    );
    const sinkPid = lastPid();
    Deno.bench({
      name: `Mycelium ${kind} link, ${title}`,
      group: `stream ${kind}`,
      n: 12,
      warmup: STREAM_WARMUP,
      async fn(b) {
        b.start();
        const c0 = cpuPair(sinkPid);
        const t0 = performance.now();
        sinkDone = Promise.withResolvers<void>();
        for (let i = 0; i < N;) {
          if (sink.write(V2Swap, swap) === WRITE_RESULT.full) await sink.room();
          else i++;
        }
        await sinkDone.promise;
        record(`${label} ${kind}`, performance.now() - t0, sinkPid, c0);
        b.end();
      },
    });
  }

  // --- round trip -------------------------------------------------------------
  const rawEcho = await rawConn(kind, await peer("raw-echo", kind, 1));
  const frame = V2Swap.toBytes(swap);
  const back = new Uint8Array(FRAME * 4);
  Deno.bench({
    name: `raw ${kind} socket ping-pong (floor)`,
    group: `round trip ${kind}`,
    baseline: true,
    n: 5000,
    warmup: TRIP_WARMUP,
    async fn() {
      const t0 = performance.now();
      await writeAll(rawEcho, frame);
      let got = 0;
      while (got < FRAME) {
        const n = await rawEcho.read(back.subarray(got));
        if (n === null) throw new Error("echo peer closed");
        got += n;
      }
      sample(`raw ${kind}`, performance.now() - t0);
    },
  });

  let echoed: PromiseWithResolvers<void> | undefined;
  const echo = await Link.connect(
    kind === "unix"
      ? new UnixTransport({ path: await peer("link-echo", kind, 1) })
      : new TcpTransport({ port: Number(await peer("link-echo", kind, 1)) }),
    {
      registry,
      identity: `bench-pinger-${kind}`,
      logger: silentLogger,
      handler: { message: () => echoed?.resolve() },
    },
  );
  Deno.bench({
    name: `Mycelium ${kind} link, V2Swap echo`,
    group: `round trip ${kind}`,
    n: 5000,
    warmup: TRIP_WARMUP,
    async fn() {
      const t0 = performance.now();
      echoed = Promise.withResolvers<void>();
      echo.write(V2Swap, swap);
      await echoed.promise;
      sample(`link ${kind}`, performance.now() - t0);
    },
  });
}

// --- NATS -----------------------------------------------------------------------
const natsPort = freePort();
const natsServer = startNatsServer(natsPort, "NATS rows");
if (natsServer !== undefined) {
  children.push(natsServer);
  const nc = await connectNats(natsPort);
  await startPeer(
    children,
    ["--allow-read", "--allow-net", "--allow-env", NATS_PEER, String(natsPort), String(N)],
    "NATS peer",
  );
  const frame = V2Swap.toBytes(swap);
  let natsDone: PromiseWithResolvers<void> | undefined;
  nc.subscribe("swaps.done", { callback: () => natsDone?.resolve() });
  await nc.flush();
  Deno.bench({
    name: "NATS publish → subscriber process",
    group: "stream tcp",
    n: 12,
    warmup: STREAM_WARMUP,
    async fn(b) {
      b.start();
      const t0 = performance.now();
      natsDone = Promise.withResolvers<void>();
      for (let i = 0; i < N; i++) {
        nc.publish("swaps", frame);
        if ((i & 4095) === 4095) await nc.flush();
      }
      await natsDone.promise;
      record("nats tcp", performance.now() - t0);
      b.end();
    },
  });
  Deno.bench({
    name: "NATS request/reply",
    group: "round trip tcp",
    n: 5000,
    warmup: TRIP_WARMUP,
    async fn() {
      const t0 = performance.now();
      await nc.request("echo", frame, { timeout: 5000 });
      sample("nats tcp", performance.now() - t0);
    },
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ??
    NaN;
}

globalThis.addEventListener("unload", () => {
  const lines = [
    "",
    "transport summary (same run; sender and receiver in separate processes)",
  ];
  let cpuUnread = false;
  for (const kind of ["unix", "tcp"]) {
    const raw = streams.get(`raw ${kind}`);
    const link = streams.get(`link ${kind}`);
    if (raw && link) {
      const rawRate = raw.messages / raw.ms * 1000;
      const linkRate = link.messages / link.ms * 1000;
      lines.push(
        `stream ${kind}: raw floor ${(rawRate / 1e6).toFixed(2)} M msg/s, link ${
          (linkRate / 1e6).toFixed(2)
        } M msg/s (${(linkRate / rawRate).toFixed(2)}x floor)`,
      );
    }
    const plain = streams.get(`link plain ${kind}`);
    if (raw && plain) {
      const rawRate = raw.messages / raw.ms * 1000;
      const rate = plain.messages / plain.ms * 1000;
      lines.push(
        `stream ${kind}: link, handler gets plain objects ${(rate / 1e6).toFixed(2)} M msg/s (${
          (rate / rawRate).toFixed(2)
        }x floor)`,
      );
    }
    const codec = streams.get(`codec ${kind}`);
    if (link && codec) {
      const codecRate = codec.messages / codec.ms * 1000;
      const linkRate = link.messages / link.ms * 1000;
      lines.push(
        `stream ${kind}: raw socket with hand-written encode + decode ${
          (codecRate / 1e6).toFixed(2)
        } M msg/s (link ${(linkRate / codecRate).toFixed(2)}x of it)`,
      );
    }
    // Summed over the measured runs: /proc counts 10 ms ticks, about 0.05 µs a message in one run.
    const cpuRows = [
      ["floor", raw],
      ["hand-written", codec],
      ["link", link],
      ["link plain", plain],
    ] as const;
    const perMessage = cpuRows.flatMap(([what, r]) =>
      r === undefined || Number.isNaN(r.senderCpuMs) ? [] : [
        `${what} ${(r.senderCpuMs * 1000 / r.messages).toFixed(3)}/${
          (r.receiverCpuMs * 1000 / r.messages).toFixed(3)
        }`,
      ]
    );
    if (perMessage.length > 0) {
      lines.push(`stream ${kind}: CPU µs a message, sender/receiver: ${perMessage.join(", ")}`);
    } else if (raw) cpuUnread = true;
    const nats = streams.get(`nats ${kind}`);
    if (raw && nats) {
      const rate = nats.messages / nats.ms * 1000;
      lines.push(`stream ${kind}: NATS ${(rate / 1e6).toFixed(2)} M msg/s`);
    }
    const ns = trips.get(`nats ${kind}`)?.sort((a, b) => a - b);
    if (ns) {
      lines.push(
        `round trip ${kind}: NATS p50 ${(percentile(ns, 0.5) * 1000).toFixed(1)} µs p99 ${
          (percentile(ns, 0.99) * 1000).toFixed(1)
        } µs`,
      );
    }
    const rs = trips.get(`raw ${kind}`)?.sort((a, b) => a - b);
    const ls = trips.get(`link ${kind}`)?.sort((a, b) => a - b);
    if (rs && ls) {
      const us = (ms: number) => (ms * 1000).toFixed(1);
      lines.push(
        `round trip ${kind}: raw p50 ${us(percentile(rs, 0.5))} µs p99 ${
          us(percentile(rs, 0.99))
        } µs; ` +
          `link p50 ${us(percentile(ls, 0.5))} µs p99 ${us(percentile(ls, 0.99))} µs ` +
          `(p50 ${(percentile(ls, 0.5) / percentile(rs, 0.5)).toFixed(2)}x floor)`,
      );
    }
  }
  if (cpuUnread) lines.push(CPU_UNREAD);
  // deno-lint-ignore no-console
  console.log(lines.join("\n"));
  stopChildren(children);
  Deno.removeSync(dir, { recursive: true });
});
