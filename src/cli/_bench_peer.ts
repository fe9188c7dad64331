/**
 * The far end of `mycelium bench`'s socket measurements: the same program
 * re-run as `mycelium bench-peer` (a hidden command) in a separate process.
 *
 * It listens on a raw Unix socket and a raw TCP port (echo, or count bytes),
 * and on a Unix and a TCP link listener (echo each V2Swap, or read each one
 * and answer the last of a stream). It prints one JSON line
 * ({@linkcode PeerReady}) and runs until its stdin ends (the parent closed
 * it, or died) or it gets SIGINT/SIGTERM.
 *
 * @module
 */
import { Registry } from "../codec/mod.ts";
import { NULL_LOGGER } from "../logger.ts";
import { V2Swap } from "./_bench_workload.ts";
import { onShutdownSignals } from "../supervisor/mod.ts";
import {
  LinkListener,
  type LinkListenerOptions,
  TcpTransport,
  UnixTransport,
} from "../transport/mod.ts";
import type { CliIo } from "./cli_io.ts";
import { serveNats } from "./_bench_nats.ts";

/** Bytes of one V2Swap frame. */
export const FRAME_BYTES = 144;

/** The first byte a raw client sends: what the connection is for. */
export const RAW_MODE = { echo: 0x45, sink: 0x53 } as const;

/** Identity suffixes of link dialers: an echo link, or a stream sink. */
export const LINK_ROLE = { echo: "-echo", sink: "-sink" } as const;

/** Where a peer's sockets listen. */
export interface PeerAddresses {
  /** Raw Unix socket path. */
  readonly unixRaw: string;
  /** Unix socket path of the link listener. */
  readonly unixLink: string;
  /** Raw TCP port on 127.0.0.1. */
  readonly tcpRaw: number;
  /** TCP port of the link listener on 127.0.0.1. */
  readonly tcpLink: number;
}

/** The line a peer prints once it is ready. */
export interface PeerReady {
  /** Where it listens. */
  readonly sockets: PeerAddresses;
}

/** Options of {@linkcode runBenchPeer}. */
export interface BenchPeerOptions {
  /** Private directory for the socket files (it must exist, mode 0700). */
  dir: string;
  /** A nats-server to serve the NATS rows through. Default: none. */
  nats?: string | undefined;
}

/**
 * Raw protocol, after a 5-byte header (mode byte, u32 LE batch) and a 1-byte
 * acknowledgement: `echo` writes back every byte; `sink` counts bytes and
 * writes one byte per `batch` frames.
 */
async function serveRaw(conn: Deno.Conn): Promise<void> {
  const head = new Uint8Array(5);
  if (!await readFull(conn, head)) return;
  const mode = head[0];
  const batchBytes = new DataView(head.buffer).getUint32(1, true) * FRAME_BYTES;
  await writeAll(conn, new Uint8Array([1]));
  const buf = new Uint8Array(256 * 1024);
  const one = new Uint8Array(1);
  let bytes = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return;
    if (mode === RAW_MODE.echo) {
      await writeAll(conn, buf.subarray(0, n));
      continue;
    }
    bytes += n;
    while (batchBytes > 0 && bytes >= batchBytes) {
      bytes -= batchBytes;
      await writeAll(conn, one);
    }
  }
}

/** Fills `buf` from `conn`; false if the connection ended first. */
export async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<boolean> {
  let got = 0;
  while (got < buf.length) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) return false;
    got += n;
  }
  return true;
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** Accepts raw connections until the listener closes; serves each. */
async function acceptRaw(listener: Deno.Listener, conns: Set<Deno.Conn>): Promise<void> {
  const served: Promise<void>[] = [];
  try {
    for await (const conn of listener) {
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      conns.add(conn);
      served.push(
        serveRaw(conn).catch(() => {
          // The parent closed the connection (or the run ended): nothing to report here.
        }).finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Already closed by the shutdown.
          }
        }),
      );
    }
  } catch {
    // The listener was closed.
  }
  await Promise.all(served);
}

/**
 * Runs the peer until stdin ends or a shutdown signal arrives; returns the
 * exit code (0).
 */
export async function runBenchPeer(options: BenchPeerOptions, io: CliIo): Promise<number> {
  using shutdown = onShutdownSignals(undefined, { lifeline: true });
  const stopped = new Promise((resolve) => {
    if (shutdown.signal.aborted) resolve(undefined);
    else shutdown.signal.addEventListener("abort", resolve, { once: true });
  });
  const registry = new Registry([V2Swap]);
  const reply: V2Swap = {
    poolAddress: new Uint8Array(20),
    token0: new Uint8Array(20),
    token1: new Uint8Array(20),
    amountIn: new Uint8Array(32),
    amountOut: new Uint8Array(32),
    timestampNs: 0n,
  };
  let sum = 0n;
  const linkOptions: LinkListenerOptions = {
    registry,
    identity: "bench-peer",
    logger: NULL_LOGGER,
    handler: {
      message(view, _route, link) {
        if (!V2Swap.isView(view)) return;
        if (link.peer.endsWith(LINK_ROLE.echo)) {
          link.write(V2Swap, view);
          return;
        }
        // A sink reads a field of every message, as a handler would; 0 marks a stream's last.
        const t = view.timestampNs;
        sum += t;
        if (t === 0n) {
          reply.timestampNs = sum & 0xffffn;
          link.write(V2Swap, reply);
        }
      },
    },
  };
  const unixRaw = Deno.listen({ transport: "unix", path: `${options.dir}/raw.sock` });
  const tcpRaw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const rawLoops = [acceptRaw(unixRaw, conns), acceptRaw(tcpRaw, conns)];
  let unixLink: LinkListener | undefined;
  let tcpLink: LinkListener | undefined;
  let closeNats: (() => Promise<void>) | undefined;
  try {
    unixLink = await LinkListener.listen(
      new UnixTransport({ path: `${options.dir}/link.sock` }),
      linkOptions,
    );
    tcpLink = await LinkListener.listen(new TcpTransport({ port: 0 }), linkOptions);
    const port = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));
    const ready: PeerReady = {
      sockets: {
        unixRaw: `${options.dir}/raw.sock`,
        unixLink: unixLink.transport.address,
        tcpRaw: (tcpRaw.addr as Deno.NetAddr).port,
        tcpLink: port(tcpLink.transport.address),
      },
    };
    if (options.nats !== undefined) closeNats = await serveNats(options.nats);
    io.out(JSON.stringify(ready));
    await stopped;
  } finally {
    await closeNats?.();
    unixRaw.close();
    tcpRaw.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed meanwhile.
      }
    }
    await Promise.all(rawLoops);
    await unixLink?.close();
    await tcpLink?.close();
  }
  return 0;
}
