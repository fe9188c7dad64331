/**
 * A connection flood must cost only itself. Three processes per kind: the
 * receiver (`_transport_peer.ts link-sink`: a `LinkListener` with its default
 * limits — 1,024 handshake slots, 2 s for a Hello), this process (a healthy
 * sender, and new peers linking), and an attacker (`_flood_peer.ts`) holding
 * 1,000 silent and 70 slowloris connections to the same listener and reopening
 * each one the listener cuts after `FLOOD_REOPEN_MS` (default 1000 ms; `0`
 * reopens at once: a connection storm bounded only by the CPU).
 *
 * - `stream <kind>`: 200,000 V2Swap messages end to end on a link opened
 *   before the flood. Baseline: the same stream with no attacker, measured in
 *   the same run. The flood row starts the attacker on its first call
 *   (outside the timed region); it runs on through the flooded `link` row.
 * - `link <kind>`: `Link.connect` of a new peer until its handshake is done,
 *   then `close`. Baseline: the same with no attacker (that row stops it).
 *
 * The closing table prints msg/s of each stream row, the flood row's ratio to
 * its quiet baseline (the target: at most 10 % slower), and the p50/max time a new
 * peer took to link (the target: max under 1 s), plus what the attacker did.
 *
 * Run: `cd bench && deno bench -A flood_bench.ts` (or `FLOOD_REOPEN_MS=0 deno bench …`)
 *
 * @module
 */
import { Registry } from "../src/codec/mod.ts";
import { benchSwap, V2Swap } from "../src/cli/_bench_workload.ts";
import { Link, WRITE_RESULT } from "../src/transport/link.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import type { Transport } from "../src/transport/transport.ts";
import { UnixTransport } from "../src/transport/unix.ts";
import { stopChildren } from "./_children.ts";

const N = 200_000;
const STREAM_N = 100;
const STREAM_WARMUP = 3;
const LINK_N = 100;
const LINK_WARMUP = 3;
const SILENT = 1000;
const SLOWLORIS = 70;
/** How soon the attacker reopens a connection the listener cut, in ms (0: at once). */
const REOPEN_MS = Number(Deno.env.get("FLOOD_REOPEN_MS") ?? "1000");
/**
 * Whether the attacker runs at the lowest CPU priority (`FLOOD_NICE=1`): on one machine its own CPU
 * (and its side of every TCP handshake in the kernel) comes out of the same cores as the stream,
 * which a flood from other machines would not take; niced, mostly what the flood costs the
 * receiver's side remains. Default: off (the attacker competes as an equal).
 */
const ATTACKER_NICE = Deno.env.get("FLOOD_NICE") === "1";
const SINK = new URL("./_transport_peer.ts", import.meta.url).pathname;
const ATTACKER = new URL("./_flood_peer.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "mycelium-flood-" });
const children: Deno.ChildProcess[] = [];
const registry = () => new Registry([V2Swap]);

const swap = benchSwap();

/** A child `deno run` of `file`, and its stdout as lines. */
function spawn(
  file: string,
  args: string[],
  nice = false,
): [Deno.ChildProcess, LineReader] {
  const command = nice ? "nice" : Deno.execPath();
  const child = new Deno.Command(command, {
    args: [
      ...(nice ? ["-n", "19", Deno.execPath()] : []),
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      file,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  children.push(child);
  const lines = new LineReader(child.stdout);
  return [child, lines];
}

class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #text = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  async line(): Promise<string> {
    for (;;) {
      const nl = this.#text.indexOf("\n");
      if (nl >= 0) {
        const line = this.#text.slice(0, nl);
        this.#text = this.#text.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("child exited");
      this.#text += value;
    }
  }
}

/** A running attacker against `where`; `stop` ends it and returns its counts. */
class Attack {
  readonly #child: Deno.ChildProcess;
  readonly #lines: LineReader;
  private constructor(child: Deno.ChildProcess, lines: LineReader) {
    this.#child = child;
    this.#lines = lines;
  }
  static async start(kind: "unix" | "tcp", where: string): Promise<Attack> {
    const [child, lines] = spawn(ATTACKER, [
      kind,
      where,
      String(SILENT),
      String(SLOWLORIS),
      String(REOPEN_MS),
    ], ATTACKER_NICE);
    const ready = await lines.line();
    if (ready !== "ready") throw new Error(`attacker: ${ready}`);
    return new Attack(child, lines);
  }
  async stop(): Promise<string> {
    await this.#child.stdin.close();
    const summary = await this.#lines.line();
    await this.#child.status;
    return summary;
  }
}

const rates = new Map<string, { ms: number; runs: number }>();
const linkTimes = new Map<string, number[]>();
const attacks: string[] = [];
const calls = new Map<string, number>();
let attack: Attack | undefined;

/** Whether this call of `name` counts (the first two of each row are left out as warm-up). */
function measured(name: string): boolean {
  const c = (calls.get(name) ?? 0) + 1;
  calls.set(name, c);
  return c > 2;
}

/** Starts the attacker (outside any timed region) unless it runs already. */
async function flood(kind: "unix" | "tcp", where: string): Promise<void> {
  attack ??= await Attack.start(kind, where);
}

/** Stops the attacker, if running, and keeps its counts. */
async function calm(label: string): Promise<void> {
  if (attack === undefined) return;
  const a = attack;
  attack = undefined;
  attacks.push(`${label}: ${await a.stop()}`);
}

// Rows run in the order registered: per kind, the quiet stream (baseline), the stream
// under flood and a new peer under the same flood, then a new peer with no flood (which
// stops the attacker first).
for (const kind of ["unix", "tcp"] as const) {
  const [, sinkLines] = spawn(SINK, [
    "link-sink",
    kind,
    kind === "unix" ? `${dir}/sink.sock` : "0",
    String(N),
  ]);
  const where = (await sinkLines.line()).split(" ")[1]!;
  const address = (): Transport =>
    kind === "unix"
      ? new UnixTransport({ path: where })
      : new TcpTransport({ port: Number(where) });

  let done: PromiseWithResolvers<void> | undefined;
  const sender = await Link.connect(address(), {
    registry: registry(),
    identity: `healthy-${kind}`,
    handler: { message: () => done?.resolve() },
  });
  // Warm the sender and receiver up before either row, so the first row is not the slower.
  for (let w = 0; w < 10; w++) {
    done = Promise.withResolvers<void>();
    for (let i = 0; i < N;) {
      if (sender.write(V2Swap, swap) === WRITE_RESULT.full) await sender.room();
      else i++;
    }
    await done.promise;
  }
  const streamRow = (flooded: boolean) => async (b: Deno.BenchContext) => {
    const name = `stream ${kind}${flooded ? " flood" : ""}`;
    if (flooded) await flood(kind, where);
    else await calm(kind);
    b.start();
    const t0 = performance.now();
    done = Promise.withResolvers<void>();
    for (let i = 0; i < N;) {
      if (sender.write(V2Swap, swap) === WRITE_RESULT.full) await sender.room();
      else i++;
    }
    await done.promise;
    const ms = performance.now() - t0;
    b.end();
    if (measured(name)) {
      const r = rates.get(name) ?? { ms: 0, runs: 0 };
      r.ms += ms;
      r.runs++;
      rates.set(name, r);
    }
  };

  let peer = 0;
  const linkRow = (flooded: boolean) => async (b: Deno.BenchContext) => {
    const name = `link ${kind}${flooded ? " flood" : ""}`;
    if (flooded) await flood(kind, where);
    else await calm(kind);
    b.start();
    const t0 = performance.now();
    const link = await Link.connect(address(), {
      registry: registry(),
      identity: `newcomer-${kind}-${++peer}`,
    });
    const ms = performance.now() - t0;
    b.end();
    await link.close();
    if (measured(name)) {
      const times = linkTimes.get(name) ?? [];
      times.push(ms);
      linkTimes.set(name, times);
    }
  };

  Deno.bench({
    name: `${kind}: stream, no flood`,
    group: `stream ${kind}`,
    baseline: true,
    n: STREAM_N,
    warmup: STREAM_WARMUP,
    fn: streamRow(false),
  });
  Deno.bench({
    name: `${kind}: stream under ${SILENT} silent + ${SLOWLORIS} slowloris connections`,
    group: `stream ${kind}`,
    n: STREAM_N,
    warmup: STREAM_WARMUP,
    fn: streamRow(true),
  });
  Deno.bench({
    name: `${kind}: a new peer links under the flood`,
    group: `link ${kind}`,
    n: LINK_N,
    warmup: LINK_WARMUP,
    fn: linkRow(true),
  });
  Deno.bench({
    name: `${kind}: a new peer links, no flood`,
    group: `link ${kind}`,
    baseline: true,
    n: LINK_N,
    warmup: LINK_WARMUP,
    fn: linkRow(false),
  });
}

globalThis.addEventListener("unload", () => {
  const out = [
    "",
    "flood summary (same run; receiver, sender and attacker in separate processes)",
  ];
  for (const kind of ["unix", "tcp"]) {
    const q = rates.get(`stream ${kind}`);
    const f = rates.get(`stream ${kind} flood`);
    if (q !== undefined && f !== undefined) {
      const quiet = (N * q.runs) / (q.ms / 1000);
      const flood = (N * f.runs) / (f.ms / 1000);
      const change = ((flood - quiet) / quiet) * 100;
      const sign = change >= 0 ? "+" : "";
      const verdict = change >= -10 ? "met" : "missed";
      out.push(
        `${kind}  stream  no flood ${(quiet / 1e6).toFixed(2)} M msg/s, under flood ` +
          `${(flood / 1e6).toFixed(2)} M msg/s (${sign}${change.toFixed(1)} %; target at most ` +
          `10 % slower: ${verdict}; ${q.runs} and ${f.runs} runs)`,
      );
    }
    for (const flood of [false, true]) {
      const times = linkTimes.get(`link ${kind}${flood ? " flood" : ""}`);
      if (times === undefined) continue;
      const sorted = [...times].sort((a, b) => a - b);
      const max = sorted[sorted.length - 1]!;
      out.push(
        `${kind}  link    ${flood ? "under flood" : "no flood   "} p50 ${
          sorted[Math.floor(sorted.length / 2)]!.toFixed(2)
        } ms, max ${max.toFixed(2)} ms over ${sorted.length} peers` +
          (flood ? ` (target max < 1000 ms: ${max < 1000 ? "met" : "missed"})` : ""),
      );
    }
  }
  for (const a of attacks) out.push(`attacker during the ${a}`);
  // deno-lint-ignore no-console
  console.log(out.join("\n"));
  stopChildren(children);
  Deno.removeSync(dir, { recursive: true });
});
