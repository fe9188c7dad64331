/**
 * The receiving process of `transport_bench.ts`.
 *
 * Usage: `_transport_peer.ts <mode> <unix|tcp> <path|0> [batch]`; prints
 * `ready <path|port>`, serves one client, and exits when stdin closes.
 * - `raw-sink`: counts bytes; writes one byte back per `batch` 144-byte frames.
 * - `raw-echo`: writes back every byte it reads.
 * - `raw-decode-sink`: splits the stream into frames by hand (magic byte and
 *   body length from each header) and reads each frame's `timestampNs`, the
 *   field `link-sink`'s handler reads, checking it against the value the
 *   sender sends; writes one byte back per `batch` frames.
 * - `link-sink`: a link listener whose handler reads `timestampNs` of each
 *   V2Swap view (zero-copy, what a bus subscriber gets with `views`), checks
 *   it, and answers with one V2Swap per `batch` received.
 * - `link-sink-plain`: the same, but the handler first turns each view into
 *   a plain object (`toObject()`), as the bus does for every other handler.
 *
 * The decoding sinks compare the field rather than summing it: a running
 * bigint sum allocates a bigint per message, handler work (about 40 ns a
 * message here) that is neither the link's nor the codec's. Mismatches are
 * reported in the answer (`timestampNs` of the reply; the byte answered by
 * `raw-decode-sink`) and fail the bench.
 * - `link-echo`: answers each V2Swap with the same V2Swap.
 *
 * @module
 */
import { Registry } from "../src/codec/mod.ts";
import { V2Swap } from "../src/cli/_bench_workload.ts";
import { LinkListener } from "../src/transport/listener.ts";
import { silentLogger } from "../src/transport/logger.ts";
import { TcpTransport } from "../src/transport/tcp.ts";
import { UnixTransport } from "../src/transport/unix.ts";

const [mode, kind, address, batchText] = Deno.args;
const batch = Number(batchText ?? "1");
const FRAME = 144;
/** The `timestampNs` every message of the bench carries. */
const TS = 1_700_000_000_000_000_000n;
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

const stdinClosed = (async () => {
  const buf = new Uint8Array(16);
  while (await Deno.stdin.read(buf) !== null) { /* wait */ }
})();

/** Listens on the raw socket, says where, and takes the bench's one connection. */
async function acceptRaw(): Promise<{ listener: Deno.Listener; conn: Deno.Conn }> {
  const listener = kind === "unix"
    ? Deno.listen({ transport: "unix", path: address! })
    : Deno.listen({ hostname: "127.0.0.1", port: Number(address) });
  say(`ready ${kind === "unix" ? address : (listener.addr as Deno.NetAddr).port}`);
  const conn = await listener.accept();
  if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  return { listener, conn };
}

if (mode === "raw-decode-sink") {
  const { listener, conn } = await acceptRaw();
  const buf = new Uint8Array(256 * 1024);
  const dv = new DataView(buf.buffer);
  const one = new Uint8Array(1);
  let have = 0;
  let count = 0;
  let wrong = 0;
  try {
    for (;;) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) break;
      const end = have + n;
      let p = 0;
      while (end - p >= 12) {
        if (buf[p] !== 0x4d) throw new Error(`bad frame at ${p}`);
        const length = 12 + dv.getUint32(p + 8, true);
        if (end - p < length) break;
        if (dv.getBigUint64(p + 12 + 124, true) !== TS) wrong++;
        p += length;
        if (++count === batch) {
          count = 0;
          one[0] = wrong > 0 ? 1 : 0;
          await conn.write(one);
        }
      }
      buf.copyWithin(0, p, end);
      have = end - p;
    }
  } catch {
    // The bench ended.
  }
  await stdinClosed;
  listener.close();
} else if (mode === "raw-sink" || mode === "raw-echo") {
  const { listener, conn } = await acceptRaw();
  const buf = new Uint8Array(256 * 1024);
  const one = new Uint8Array(1);
  let bytes = 0;
  const target = batch * FRAME;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      if (mode === "raw-echo") {
        let done = 0;
        while (done < n) done += await conn.write(buf.subarray(done, n));
      } else {
        bytes += n;
        while (bytes >= target) {
          bytes -= target;
          await conn.write(one);
        }
      }
    }
  } catch {
    // The bench ended.
  }
  await stdinClosed;
  listener.close();
} else {
  let count = 0;
  let wrong = 0;
  const plain = mode === "link-sink-plain";
  const reply = {
    poolAddress: new Uint8Array(20),
    token0: new Uint8Array(20),
    token1: new Uint8Array(20),
    amountIn: new Uint8Array(32),
    amountOut: new Uint8Array(32),
    timestampNs: 0n,
  };
  const transport = kind === "unix"
    ? new UnixTransport({ path: address! })
    : new TcpTransport({ port: Number(address) });
  const listener = await LinkListener.listen(transport, {
    registry: new Registry([V2Swap]),
    identity: "bench-receiver",
    logger: silentLogger,
    handler: {
      message(view, _route, link) {
        if (!V2Swap.isView(view)) return;
        if (mode === "link-echo") {
          link.write(V2Swap, view);
          return;
        }
        // Decode: read a field, as a handler would.
        const ts = plain ? view.toObject().timestampNs : view.timestampNs;
        if (ts !== TS) wrong++;
        if (++count === batch) {
          count = 0;
          reply.timestampNs = BigInt(wrong);
          link.write(V2Swap, reply);
        }
      },
    },
  });
  const bound = listener.transport.address;
  say(
    `ready ${kind === "unix" ? bound : bound.slice(bound.lastIndexOf(":") + 1)}`,
  );
  await stdinClosed;
  await listener.close();
}
