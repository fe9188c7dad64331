// deno-lint-ignore-file no-console -- a script whose output is its result
/**
 * Soak benchmark (not a CI test): one Unix link carrying messages at a fixed
 * rate for a long time, to show that memory and latency stay flat. A script,
 * not a `deno bench` file (its name keeps it out of `deno task bench`, which
 * would otherwise run it for ten minutes).
 *
 * Both ends live in this process (a `LinkListener` and a `Link` over a Unix
 * socket in a temp dir), so the RSS printed covers the sender, the receiver
 * and both socket buffers. Every `--interval` seconds it prints the messages
 * sent and received in the window, the RSS and V8 heap, and the p50/p99/max of
 * the one-way latency (from the batch's write to the handler), read from a
 * histogram with 10 µs buckets that is reset each window (no per-message
 * allocation). At the end it compares the RSS and p99 of the first window
 * after warm-up with the later ones.
 *
 * Run (10 minutes at 100,000 msg/s, the defaults):
 *
 * ```sh
 * cd bench && deno run -A soak.ts
 * cd bench && deno run -A soak.ts --seconds 90 --interval 10 --rate 50000
 * ```
 *
 * @module
 */
import { defineMessage, field, Registry } from "../src/codec/mod.ts";
import { Link, WRITE_RESULT } from "../src/transport/link.ts";
import { LinkListener } from "../src/transport/listener.ts";
import { silentLogger } from "../src/transport/logger.ts";
import { UnixTransport } from "../src/transport/unix.ts";

/** `--name value` or `--name=value` flags. */
const args: Record<string, string> = {};
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i]!;
  if (!a.startsWith("--")) continue;
  const eq = a.indexOf("=");
  if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
  else args[a.slice(2)] = Deno.args[++i] ?? "";
}
const seconds = args.seconds !== undefined ? Number(args.seconds) : Number(args.minutes ?? 10) * 60;
const rate = Number(args.rate ?? 100_000);
const intervalS = Number(args.interval ?? 30);
/** Windows ignored before the RSS and p99 references are taken. */
const warmupWindows = Number(args.warmup ?? 1);
const TICK_MS = 5;

const Tick = defineMessage({
  id: 900,
  name: "soak.Tick",
  fields: { seq: field.u32(), sentAt: field.f64(), note: field.string() },
});
const registry = () => new Registry([Tick]);

/** Latency histogram: 10 µs buckets up to 100 ms, then one overflow bucket. */
const BUCKET_MS = 0.01;
const hist = new Uint32Array(10_001);
let histCount = 0;
let maxMs = 0;

function record(ms: number): void {
  const b = Math.min(hist.length - 1, Math.floor(ms / BUCKET_MS));
  hist[b]!++;
  histCount++;
  if (ms > maxMs) maxMs = ms;
}

function quantile(q: number): number {
  const target = Math.ceil(histCount * q);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return (i + 1) * BUCKET_MS;
  }
  return Infinity;
}

let received = 0;
let expected = 0;
let outOfOrder = 0;

const dir = await Deno.makeTempDir({ prefix: "mycelium-soak-" });
const listener = await LinkListener.listen(
  new UnixTransport({ path: `${dir}/soak.sock` }),
  {
    registry: registry(),
    identity: "receiver",
    logger: silentLogger,
    handler: {
      message(view) {
        if (!Tick.isView(view)) return;
        record(performance.now() - view.sentAt);
        if (view.seq !== expected) outOfOrder++;
        expected = (view.seq + 1) >>> 0;
        received++;
      },
    },
  },
);
const link = await Link.connect(listener.transport, {
  registry: registry(),
  identity: "sender",
  logger: silentLogger,
});

const note = "soak";
let seq = 0;
let sent = 0;
let waits = 0;
const start = performance.now();
const end = start + seconds * 1000;
let stopping = false;

/** Sends what the fixed rate says is due by now (catching up after a slow tick). */
async function sender(): Promise<void> {
  while (!stopping) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - start) / 1000) * rate) - sent;
    for (let i = 0; i < due; i++) {
      while (
        link.write(Tick, { seq, sentAt: now, note }) === WRITE_RESULT.full
      ) {
        waits++;
        await link.room();
      }
      seq = (seq + 1) >>> 0;
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}

interface Row {
  t: number;
  sent: number;
  received: number;
  rssMb: number;
  heapMb: number;
  p50: number;
  p99: number;
  max: number;
}
const rows: Row[] = [];
let lastSent = 0;
let lastReceived = 0;

function report(): void {
  const mem = Deno.memoryUsage();
  const row: Row = {
    t: Math.round((performance.now() - start) / 1000),
    sent: sent - lastSent,
    received: received - lastReceived,
    rssMb: mem.rss / 2 ** 20,
    heapMb: mem.heapUsed / 2 ** 20,
    p50: quantile(0.5),
    p99: quantile(0.99),
    max: maxMs,
  };
  lastSent = sent;
  lastReceived = received;
  hist.fill(0);
  histCount = 0;
  maxMs = 0;
  rows.push(row);
  console.log(
    `${String(row.t).padStart(5)} s  sent ${String(row.sent).padStart(9)}  ` +
      `received ${String(row.received).padStart(9)}  rss ${row.rssMb.toFixed(1).padStart(7)} MB  ` +
      `heap ${row.heapMb.toFixed(1).padStart(6)} MB  p50 ${row.p50.toFixed(2)} ms  ` +
      `p99 ${row.p99.toFixed(2)} ms  max ${row.max.toFixed(2)} ms`,
  );
}

console.log(
  `soak: unix link, ${rate} msg/s for ${seconds} s, a line every ${intervalS} s ` +
    `(deno ${Deno.version.deno}, pid ${Deno.pid})`,
);
const timer = setInterval(report, intervalS * 1000);
const onSignal = () => (stopping = true);
Deno.addSignalListener("SIGINT", onSignal);
await sender();
clearInterval(timer);
Deno.removeSignalListener("SIGINT", onSignal);
await link.drained();
report();
await link.close();
await listener.close();
await Deno.remove(dir, { recursive: true });

const steady = rows.slice(warmupWindows, -1).length > 0
  ? rows.slice(warmupWindows, -1)
  : rows.slice(0, -1);
if (steady.length >= 2) {
  const first = steady[0]!;
  const last = steady[steady.length - 1]!;
  const maxRss = Math.max(...steady.map((r) => r.rssMb));
  const p99s = steady.map((r) => r.p99).sort((a, b) => a - b);
  const half = Math.floor(steady.length / 2);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const early = median(steady.slice(0, half).map((r) => r.p99));
  const late = median(steady.slice(half).map((r) => r.p99));
  const rssEarly = median(steady.slice(0, half).map((r) => r.rssMb));
  const rssLate = median(steady.slice(half).map((r) => r.rssMb));
  const rssTrend = ((rssLate - rssEarly) / rssEarly) * 100;
  console.log(
    `after warm-up (${warmupWindows} window): rss ${first.rssMb.toFixed(1)} → ${
      last.rssMb.toFixed(1)
    } MB (${(((last.rssMb - first.rssMb) / first.rssMb) * 100).toFixed(1)} %), ` +
      `max ${maxRss.toFixed(1)} MB (+${
        (((maxRss - first.rssMb) / first.rssMb) * 100).toFixed(1)
      } %); ` +
      `median rss of the first half ${rssEarly.toFixed(1)} MB, of the second half ` +
      `${rssLate.toFixed(1)} MB (${rssTrend.toFixed(1)} %); ` +
      `p99 per window ${p99s[0]!.toFixed(2)}–${p99s[p99s.length - 1]!.toFixed(2)} ms, ` +
      `median of first half ${early.toFixed(2)} ms, of second half ${late.toFixed(2)} ms`,
  );
}
console.log(
  `total: sent ${sent}, received ${received}, out of order ${outOfOrder}, ` +
    `sender waited for room ${waits} times, link undelivered ${link.stats.undelivered}`,
);
