/**
 * The socket measurements of `mycelium bench`: a Unix and a TCP loopback
 * link to a peer in a separate process (this program re-run as the hidden
 * `bench-peer` command), each against the raw Deno socket floor measured in
 * the same run.
 *
 * - Round trip: one 144-byte V2Swap out, its echo back, timed one by one.
 *   Floor: a raw socket ping-pong of one 144-byte frame.
 * - Stream: N V2Swaps end to end (encode, socket, decode, the peer's handler
 *   reads a field), timed until the peer answers the last one. Floor: the
 *   same bytes pre-encoded in 64 KiB writes to a peer that only counts them.
 *
 * Floors and links alternate in blocks, so load from other work on a shared
 * machine falls on both sides of each ratio.
 *
 * @module
 */
import { Registry } from "../codec/mod.ts";
import { NULL_LOGGER } from "../logger.ts";
import { LatencyRecorder } from "../metrics/mod.ts";
import { benchSwap, V2Swap } from "./_bench_workload.ts";
import { selfCommand } from "../supervisor/mod.ts";
import { Link, TcpTransport, UnixTransport, WRITE_RESULT } from "../transport/mod.ts";
import { BenchError } from "./_bench_error.ts";
import { figures } from "./_bench_in_process.ts";
import {
  FRAME_BYTES,
  LINK_ROLE,
  type PeerAddresses,
  type PeerReady,
  RAW_MODE,
  readFull,
  writeAll,
} from "./_bench_peer.ts";
import { type BenchRow, benchRow } from "./_bench_report.ts";

/** Sizes of the socket measurements. */
export interface SocketPlan {
  /** Messages per stream round. */
  messages: number;
  /** Round trips per variant. */
  roundTrips: number;
  /** Measured stream rounds per variant (one more warms up). */
  rounds: number;
  /** Stops the run (with `BENCH_INTERRUPTED`). */
  signal?: AbortSignal;
}

/** What {@linkcode measureSockets} returns. */
export interface SocketResults {
  /** Rows of the unix and tcp measurements, floors first. */
  readonly rows: BenchRow[];
  /** What the peer process wrote to stderr (normally nothing). */
  readonly peerStderr: string;
}

type Kind = "unix" | "tcp";
const BLOCK = 50;

/** A pending wait that a failure can cut short. */
interface Pending {
  readonly promise: Promise<unknown>;
  reject(reason: unknown): void;
}

const ignore = () => {};

/**
 * Failure and deadline watch: the first failure (peer exit, deadline,
 * signal) rejects what is being waited for and closes the raw sockets, so no
 * measurement hangs.
 */
class Watch {
  stage = "start";
  error: BenchError | undefined;
  #pending: Pending | undefined;
  readonly conns = new Set<Deno.Conn>();
  readonly links = new Set<Link>();
  readonly #closing: Promise<void>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  #stopped = false;

  fail(error: BenchError): void {
    if (this.error !== undefined || this.#stopped) return;
    this.error = error;
    this.#pending?.reject(error);
    for (const conn of this.conns) closeQuietly(conn);
    // Writes then fail at once, instead of a long stream running on.
    for (const link of this.links) this.#closing.push(link.close({ drainMs: 0 }).catch(ignore));
  }

  /** Waits for `wait`, unless a failure comes first. */
  track(wait: Pending | undefined): void {
    // A failure may reject it before anyone awaits it: that is not an unhandled rejection.
    wait?.promise.catch(ignore);
    this.#pending = wait;
  }

  /** Resolves once the links a failure closed are closed. */
  async settled(): Promise<void> {
    await Promise.all(this.#closing);
  }

  begin(stage: string, deadlineMs: number): void {
    this.end();
    if (this.error !== undefined) throw this.error;
    this.stage = stage;
    this.#timer = setTimeout(() => {
      this.fail(
        new BenchError(
          "BENCH_TIMEOUT",
          `${stage} took longer than ${Math.round(deadlineMs / 1000)} s`,
          { stage },
        ),
      );
    }, deadlineMs);
  }

  /** The run is over: later failures (the peer's expected exit) are not failures. */
  stop(): void {
    this.end();
    this.#stopped = true;
  }

  end(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The failure that stopped the run, else `e` wrapped with the stage. */
  explain(e: unknown): unknown {
    if (this.error !== undefined) return this.error;
    return e;
  }
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}

const body: V2Swap = benchSwap();
/** The last message of a stream: the peer answers it. */
const marker: V2Swap = { ...body, timestampNs: 0n };

/** The peer process and what it said. */
interface Peer {
  readonly child: Deno.ChildProcess;
  readonly stdout: ReadableStreamDefaultReader<string>;
  readonly stderr: Promise<string>;
  /** Set when this run ends the peer: its exit is then no failure. */
  stopping: boolean;
}

/** The command line of the peer process. */
function peerCommand(dir: string): { command: string; args: string[] } {
  const cmd = selfCommand(
    ["bench-peer", "--dir", dir],
    { probe: { read: [dir], write: [dir], net: ["127.0.0.1"] } },
  );
  return { command: cmd.command, args: [...cmd.args] };
}

const NEEDS = "mycelium bench needs --allow-run, --allow-net, --allow-read and --allow-write";

/**
 * Fails early, before any measurement, when this process may not start its
 * peer or open loopback sockets.
 *
 * @throws {BenchError} `BENCH_PERMISSION`.
 */
export function checkPermissions(): void {
  const { command } = peerCommand(".");
  const missing: string[] = [];
  if (Deno.permissions.querySync({ name: "run", command }).state !== "granted") {
    missing.push(`run (${command})`);
  }
  if (Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted") {
    missing.push("net (127.0.0.1)");
  }
  if (missing.length > 0) {
    throw new BenchError("BENCH_PERMISSION", `no ${missing.join(" or ")} permission; ${NEEDS}`, {
      stage: "start",
    });
  }
}

async function startPeer(dir: string, watch: Watch): Promise<{ peer: Peer; ready: PeerReady }> {
  const cmd = peerCommand(dir);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd.command, {
      args: cmd.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (cause) {
    throw new BenchError(
      "BENCH_PEER",
      `cannot start the peer process (${cmd.command}): ${messageOf(cause)}; ` +
        NEEDS,
      { cause, stage: "peer start" },
    );
  }
  const peer: Peer = {
    child,
    stderr: new Response(child.stderr).text(),
    stdout: child.stdout.pipeThrough(new TextDecoderStream()).getReader(),
    stopping: false,
  };
  void child.status.then((status) => {
    if (peer.stopping) return;
    watch.fail(
      new BenchError(
        "BENCH_PEER",
        `the peer process exited (code ${status.code}) during ${watch.stage}`,
        { stage: watch.stage },
      ),
    );
  });
  const ready = Promise.withResolvers<never>();
  let text = "";
  try {
    watch.begin("peer start", 30_000);
    watch.track(ready);
    while (!text.includes("\n")) {
      const { value, done } = await Promise.race([peer.stdout.read(), ready.promise]);
      if (done) break;
      text += value;
    }
    const line = text.slice(0, text.indexOf("\n"));
    try {
      return { peer, ready: JSON.parse(line) as PeerReady };
    } catch (cause) {
      throw new BenchError("BENCH_PEER", `the peer process did not get ready (it said '${line}')`, {
        cause,
        stage: "peer start",
      });
    }
  } catch (e) {
    const said = (await stopPeer(peer)).trim();
    const error = watch.explain(e);
    if (error instanceof BenchError && said !== "") {
      throw new BenchError(error.code, `${error.message}; its stderr: ${said}`, {
        cause: error,
        stage: error.stage,
      });
    }
    throw error;
  } finally {
    watch.track(undefined);
    watch.end();
  }
}

/** Ends the peer: closes its stdin (its lifeline), waits for it, kills it if it lingers. */
async function stopPeer(peer: Peer): Promise<string> {
  peer.stopping = true;
  try {
    await peer.child.stdin.close();
  } catch {
    // It is gone already.
  }
  const timer = setTimeout(() => {
    try {
      peer.child.kill("SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }, 5000);
  try {
    await peer.child.status;
  } finally {
    clearTimeout(timer);
  }
  await peer.stdout.cancel().catch(() => {});
  return await peer.stderr.catch(() => "");
}

async function rawConn(
  kind: Kind,
  peer: PeerAddresses,
  mode: number,
  batch: number,
  watch: Watch,
): Promise<Deno.Conn> {
  const conn = kind === "unix"
    ? await Deno.connect({ transport: "unix", path: peer.unixRaw })
    : await Deno.connect({ hostname: "127.0.0.1", port: peer.tcpRaw });
  if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  watch.conns.add(conn);
  const head = new Uint8Array(5);
  head[0] = mode;
  new DataView(head.buffer).setUint32(1, batch, true);
  await writeAll(conn, head);
  if (!await readFull(conn, new Uint8Array(1))) throw new Error("the peer closed a raw socket");
  return conn;
}

/** A link whose handler resolves whatever is waiting for the next inbound message. */
async function dialLink(
  kind: Kind,
  peer: PeerAddresses,
  role: string,
  next: { wait: PromiseWithResolvers<void> | undefined },
): Promise<Link> {
  const transport = kind === "unix"
    ? new UnixTransport({ path: peer.unixLink })
    : new TcpTransport({ port: peer.tcpLink });
  return await Link.connect(transport, {
    registry: new Registry([V2Swap]),
    identity: `bench-${kind}${role}`,
    logger: NULL_LOGGER,
    reconnect: false,
    handler: { message: () => next.wait?.resolve() },
  });
}

function checkAborted(signal: AbortSignal | undefined, watch: Watch): void {
  if (signal?.aborted) {
    watch.fail(
      new BenchError("BENCH_INTERRUPTED", `interrupted during ${watch.stage}`, {
        stage: watch.stage,
      }),
    );
    throw watch.error;
  }
}

/** One kind's sockets for a measurement: the raw floor and the link. */
interface Pair {
  readonly kind: Kind;
  readonly raw: Deno.Conn;
  readonly link: Link;
  readonly next: { wait: PromiseWithResolvers<void> | undefined };
  readonly rawNs: LatencyRecorder;
  readonly linkNs: LatencyRecorder;
  rawMs: number;
  linkMs: number;
}

async function openPairs(
  peer: PeerAddresses,
  mode: number,
  batch: number,
  role: string,
  watch: Watch,
): Promise<Pair[]> {
  const pairs: Pair[] = [];
  try {
    for (const kind of ["unix", "tcp"] as const) {
      const raw = await rawConn(kind, peer, mode, batch, watch);
      const next: Pair["next"] = { wait: undefined };
      let link: Link;
      try {
        link = await dialLink(kind, peer, role, next);
        watch.links.add(link);
      } catch (e) {
        watch.conns.delete(raw);
        closeQuietly(raw);
        throw e;
      }
      pairs.push({
        kind,
        raw,
        link,
        next,
        rawNs: new LatencyRecorder(),
        linkNs: new LatencyRecorder(),
        rawMs: 0,
        linkMs: 0,
      });
    }
  } catch (e) {
    await closePairs(pairs, watch);
    throw e;
  }
  return pairs;
}

async function closePairs(pairs: readonly Pair[], watch: Watch): Promise<void> {
  watch.track(undefined);
  for (const p of pairs) {
    watch.conns.delete(p.raw);
    watch.links.delete(p.link);
    closeQuietly(p.raw);
    await p.link.close({ drainMs: 1000 });
  }
}

/** Warm-up: at least `count` rounds and `ms` milliseconds (a new process compiles and caches code for a while). */
function warming(round: number, count: number, since: number, ms = 300): boolean {
  return round < count || performance.now() - since < ms;
}

/**
 * Round trips and streams over a Unix and a TCP link, each with its raw
 * floor. The four variants take turns in small blocks, so that a
 * neighbour's load, or the peer still warming up, falls on all of them.
 */
async function measureLinks(
  peer: PeerAddresses,
  plan: SocketPlan,
  watch: Watch,
  deadlineMs: number,
): Promise<BenchRow[]> {
  const frame = V2Swap.toBytes(body);
  const back = new Uint8Array(FRAME_BYTES);

  // --- round trips ---------------------------------------------------------------
  watch.begin("unix and tcp round trips", deadlineMs);
  const echoes = await openPairs(peer, RAW_MODE.echo, 0, LINK_ROLE.echo, watch);
  try {
    const warmupBlocks = Math.ceil(Math.max(BLOCK * 2, plan.roundTrips >> 2) / BLOCK);
    const since = performance.now();
    let measured = 0;
    for (let block = 0; measured < plan.roundTrips; block++) {
      checkAborted(plan.signal, watch);
      const warm = warming(block, warmupBlocks, since);
      for (const p of echoes) {
        for (let i = 0; i < BLOCK; i++) {
          const t0 = performance.now();
          await writeAll(p.raw, frame);
          if (!await readFull(p.raw, back)) throw new Error("the peer closed an echo socket");
          if (!warm) p.rawNs.record((performance.now() - t0) * 1e6);
        }
        for (let i = 0; i < BLOCK; i++) {
          const t0 = performance.now();
          const wait = Promise.withResolvers<void>();
          p.next.wait = wait;
          watch.track(wait);
          p.link.write(V2Swap, body);
          await wait.promise;
          if (!warm) p.linkNs.record((performance.now() - t0) * 1e6);
        }
      }
      if (!warm) measured += BLOCK;
    }
  } finally {
    await closePairs(echoes, watch);
  }

  // --- streams -----------------------------------------------------------------------
  watch.begin("unix and tcp streams", deadlineMs);
  const n = plan.messages;
  const sinks = await openPairs(peer, RAW_MODE.sink, n, LINK_ROLE.sink, watch);
  const chunkFrames = Math.floor(65536 / FRAME_BYTES);
  const chunk = new Uint8Array(chunkFrames * FRAME_BYTES);
  for (let i = 0; i < chunkFrames; i++) V2Swap.encode(body, chunk, i * FRAME_BYTES);
  const one = new Uint8Array(1);
  try {
    const since = performance.now();
    let measured = 0;
    for (let round = 0; measured < plan.rounds; round++) {
      checkAborted(plan.signal, watch);
      const warm = warming(round, 1, since);
      for (const p of sinks) {
        let t0 = performance.now();
        for (let left = n; left > 0;) {
          const frames = Math.min(left, chunkFrames);
          await writeAll(p.raw, chunk.subarray(0, frames * FRAME_BYTES));
          left -= frames;
        }
        if (!await readFull(p.raw, one)) throw new Error("the peer closed a sink socket");
        if (!warm) p.rawMs += performance.now() - t0;

        t0 = performance.now();
        const wait = Promise.withResolvers<void>();
        p.next.wait = wait;
        watch.track(wait);
        for (let i = 1; i < n;) {
          if (p.link.write(V2Swap, body) === WRITE_RESULT.full) await p.link.room();
          else i++;
        }
        while (p.link.write(V2Swap, marker) === WRITE_RESULT.full) await p.link.room();
        await wait.promise;
        if (!warm) p.linkMs += performance.now() - t0;
      }
      if (!warm) measured++;
    }
  } finally {
    await closePairs(sinks, watch);
  }
  watch.end();

  const total = n * plan.rounds;
  const rows: BenchRow[] = [];
  for (let k = 0; k < 2; k++) {
    const echo = echoes[k]!;
    const sink = sinks[k]!;
    const kind = echo.kind;
    const label = kind === "unix" ? "Unix" : "TCP loopback";
    const rawRtt = benchRow({
      id: `${kind}-raw-rtt`,
      place: kind,
      what: `raw Deno ${label} socket ping-pong, 144 B`,
      ...figures(echo.rawNs),
      isFloor: true,
    });
    const rawStream = benchRow({
      id: `${kind}-raw-stream`,
      place: kind,
      what: `raw Deno ${label} socket, pre-encoded in 64 KiB writes`,
      msgPerSec: total / (sink.rawMs / 1000),
      samples: total,
      isFloor: true,
    });
    rows.push(
      rawRtt,
      benchRow({
        id: `${kind}-link-rtt`,
        place: kind,
        what: `Mycelium ${kind} link, V2Swap round trip`,
        ...figures(echo.linkNs),
      }, rawRtt),
      rawStream,
      benchRow({
        id: `${kind}-link-stream`,
        place: kind,
        what: `Mycelium ${kind} link, V2Swap stream to a handler`,
        msgPerSec: total / (sink.linkMs / 1000),
        samples: total,
      }, rawStream),
    );
  }
  return rows;
}

/**
 * Runs the socket measurements: starts the peer process, measures unix and
 * tcp, and cleans up (peer awaited, socket directory removed) whether it
 * succeeded or not.
 *
 * @throws {BenchError} `BENCH_PEER`, `BENCH_TIMEOUT`, `BENCH_INTERRUPTED`.
 */
export async function measureSockets(plan: SocketPlan): Promise<SocketResults> {
  const watch = new Watch();
  const onAbort = () =>
    watch.fail(
      new BenchError("BENCH_INTERRUPTED", `interrupted during ${watch.stage}`, {
        stage: watch.stage,
      }),
    );
  plan.signal?.addEventListener("abort", onAbort, { once: true });
  // Generous: only a stuck peer or socket should ever reach it.
  const deadlineMs = 30_000 + plan.messages * (plan.rounds + 1) * 2 * 0.02 +
    plan.roundTrips * 4 * 1;
  let dir: string;
  try {
    dir = await Deno.makeTempDir({ prefix: "mycelium-bench-" });
  } catch (cause) {
    plan.signal?.removeEventListener("abort", onAbort);
    throw new BenchError(
      cause instanceof Deno.errors.NotCapable ? "BENCH_PERMISSION" : "BENCH_PEER",
      `cannot create a private directory for the sockets: ${messageOf(cause)}; ${NEEDS}`,
      { cause, stage: "start" },
    );
  }
  const rows: BenchRow[] = [];
  let peer: Peer | undefined;
  let failure: unknown;
  let peerStderr = "";
  try {
    const started = await startPeer(dir, watch);
    peer = started.peer;
    const addresses = started.ready.sockets;
    if (addresses === undefined) {
      throw new BenchError("BENCH_PEER", "the peer process did not say where it listens", {
        stage: "peer start",
      });
    }
    rows.push(...await measureLinks(addresses, plan, watch, deadlineMs));
  } catch (e) {
    failure = watch.explain(e);
  }
  watch.stop();
  await watch.settled();
  plan.signal?.removeEventListener("abort", onAbort);
  try {
    if (peer !== undefined) peerStderr += (await stopPeer(peer)).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (failure !== undefined) {
    if (failure instanceof BenchError && failure.code === "BENCH_PEER" && peerStderr !== "") {
      throw new BenchError(failure.code, `${failure.message}; its stderr: ${peerStderr}`, {
        cause: failure,
        stage: failure.stage,
      });
    }
    throw failure;
  }
  return { rows, peerStderr };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
