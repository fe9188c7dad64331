/**
 * What the benchmarks that run other processes share: a free loopback port,
 * a peer started and awaited until it prints its first line, a nats-server
 * started on loopback when it is installed, and a NATS client connected once
 * that server accepts, and the CPU time a process has spent (Linux).
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";

/**
 * CPU ms (user + system) a process has spent, from `/proc/<pid>/stat` (10 ms
 * ticks); NaN where that cannot be read: not Linux, or run without
 * `--allow-all` (Deno reads `/proc` only with every permission).
 */
export function cpuMs(pid: number | "self"): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** What a summary prints instead of CPU figures it could not read. */
export const CPU_UNREAD =
  "CPU time per message not shown: it is read from /proc (Linux), which Deno allows only with -A";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts `deno run ...args` (permissions first, then the script and its
 * arguments), pushes it onto `children` and resolves with the words of the
 * first line it prints (a peer says it is ready, and where).
 */
export async function startPeer(
  children: Deno.ChildProcess[],
  args: readonly string[],
  name: string,
): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  children.push(child);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${name} exited before it was ready`);
    text += value;
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n")).trim().split(" ");
}

/** Ends every child started for a benchmark (SIGTERM; one that already exited is skipped). */
export function stopChildren(children: readonly Deno.ChildProcess[]): void {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch {
      // Exited already.
    }
  }
}

/** Starts nats-server on 127.0.0.1:`port`; undefined (and says what is skipped) when it is not installed. */
export function startNatsServer(port: number, skipped: string): Deno.ChildProcess | undefined {
  try {
    return new Deno.Command("nats-server", {
      args: ["-a", "127.0.0.1", "-p", String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    // deno-lint-ignore no-console
    console.log(`nats-server not found: ${skipped} skipped (apt-get install -y nats-server)`);
    return undefined;
  }
}

/** A raw NATS client of the server on 127.0.0.1:`port`, retried while the server starts. */
export async function connectNats(port: number): Promise<Awaited<ReturnType<typeof connect>>> {
  for (let i = 0;; i++) {
    try {
      return await connect({ servers: `127.0.0.1:${port}` });
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
