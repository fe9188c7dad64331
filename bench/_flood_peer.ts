/**
 * The attacker of `flood_bench.ts`: holds connections to a link listener that
 * never complete a handshake, and reopens each one the listener cuts.
 *
 * Usage: `_flood_peer.ts <unix|tcp> <path|port> <silent> <slowloris> [reopenMs]`
 * - `silent` connections send nothing;
 * - `slowloris` connections send a Hello header announcing a 200 KiB body,
 *   then one byte of it every 500 ms;
 * - a connection the listener closes is reopened after `reopenMs` (default 0:
 *   at once, the harshest).
 *
 * Prints `ready` once every connection was opened once; when stdin closes,
 * prints `opened <n> cut <n>` and exits.
 *
 * @module
 */

const [kind, address, silentText, slowText, reopenText] = Deno.args;
const silent = Number(silentText ?? "1000");
const slowloris = Number(slowText ?? "70");
const reopenMs = Number(reopenText ?? "0");
const say = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

let stopping = false;
let opened = 0;
let cut = 0;
const live = new Set<Deno.Conn>();

/** A Hello header (magic 0x4d, version 1, type 0xFF01) announcing a 200 KiB body. */
const HEADER = new Uint8Array(12);
HEADER[0] = 0x4d;
HEADER[1] = 1;
new DataView(HEADER.buffer).setUint16(2, 0xff01, true);
new DataView(HEADER.buffer).setUint32(8, 200 * 1024, true);

function dial(): Promise<Deno.Conn> {
  return kind === "unix"
    ? Deno.connect({ transport: "unix", path: address! })
    : Deno.connect({ hostname: "127.0.0.1", port: Number(address) });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One connection slot: open, hold until cut, reopen. */
async function slot(
  trickle: boolean,
  first: PromiseWithResolvers<void>,
): Promise<void> {
  let announced = false;
  while (!stopping) {
    let conn: Deno.Conn;
    try {
      conn = await dial();
    } catch {
      await wait(10);
      continue;
    }
    opened++;
    live.add(conn);
    if (!announced) {
      announced = true;
      first.resolve();
    }
    let timer: ReturnType<typeof setInterval> | undefined;
    if (trickle) {
      let sent = 0;
      const one = new Uint8Array(1);
      timer = setInterval(() => {
        one[0] = sent < 12 ? HEADER[sent]! : 0x20;
        sent++;
        conn.write(one).catch(() => {});
      }, 500);
    }
    const buf = new Uint8Array(1024);
    try {
      while (await conn.read(buf) !== null) { /* the listener's Error frame */ }
    } catch {
      // Reset: cut all the same.
    }
    clearInterval(timer);
    live.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    if (!stopping) cut++;
    if (reopenMs > 0) await wait(reopenMs);
  }
}

const firsts: PromiseWithResolvers<void>[] = [];
const slots: Promise<void>[] = [];
for (let i = 0; i < silent + slowloris; i++) {
  const first = Promise.withResolvers<void>();
  firsts.push(first);
  slots.push(slot(i < slowloris, first));
}
await Promise.all(firsts.map((f) => f.promise));
say("ready");
const buf = new Uint8Array(16);
while (await Deno.stdin.read(buf) !== null) { /* wait */ }
stopping = true;
for (const c of live) {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}
await Promise.all(slots);
say(`opened ${opened} cut ${cut}`);
