/**
 * Real nats-server processes for tests: one server or a cluster with routes,
 * on loopback ports picked free, stopped by pid.
 */
import { freePorts } from "../_deno.ts";

/** Whether `nats-server` is on the PATH (`.ci/run` installs it when missing). */
export const NATS_SERVER_AVAILABLE: boolean = (() => {
  try {
    return new Deno.Command("nats-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Why NATS tests are skipped when they are. */
export const NATS_SKIP_REASON = "nats-server is not installed (apt-get install -y nats-server)";

/** Options of {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /** Require this token. */
  token?: string;
  /** Require this user and password. */
  user?: { name: string; password: string };
  /** Serve TLS with these PEM files (and verify nothing of the client). */
  tls?: { certFile: string; keyFile: string };
  /** Join a cluster: its name, this server's route port and every server's route port. */
  cluster?: { name: string; port: number; routes: readonly number[] };
  /** Enable JetStream with this storage directory. */
  jetstreamDir?: string;
  /** Client port. Default: a free one. */
  port?: number;
}

/** What a server's monitoring endpoint says of a stream (`/jsz`). */
export interface NatsStreamState {
  /** Messages stored now. */
  messages: number;
  /** The last sequence number given: how many messages were ever stored. */
  lastSeq: number;
  /** Per consumer: messages handed out and not yet acknowledged. */
  ackPending: Record<string, number>;
}

/** A running nats-server. */
export interface NatsServer {
  /** Client URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Client port. */
  readonly port: number;
  /** Process id. */
  readonly pid: number;
  /** Client connections it holds now (from its monitoring endpoint). */
  connections(): Promise<number>;
  /** What it logged so far. */
  log(): string;
  /** Its JetStream streams (from its monitoring endpoint), by name. */
  streams(): Promise<Map<string, NatsStreamState>>;
  /** Resolves once its log matches `pattern` `count` times. */
  logged(pattern: RegExp, count?: number, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) by pid and waits for the process to end. Idempotent. */
  stop(signal?: Deno.Signal): Promise<void>;
}

/** Starts one nats-server and waits until it accepts clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  // Not a cluster's route port: those were picked free before, and a server not started yet has
  // not bound its own (this one's client port once came out equal to its route port).
  const routes = new Set(options.cluster?.routes ?? []);
  let [client, monitor] = freePorts(2) as [number, number];
  while (routes.has(client) || routes.has(monitor)) {
    [client, monitor] = freePorts(2) as [number, number];
  }
  const port = options.port ?? client;
  const args = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitor)];
  if (options.token !== undefined) args.push("--auth", options.token);
  if (options.user !== undefined) {
    args.push("--user", options.user.name, "--pass", options.user.password);
  }
  if (options.tls !== undefined) {
    args.push("--tls", "--tlscert", options.tls.certFile, "--tlskey", options.tls.keyFile);
  }
  if (options.cluster !== undefined) {
    const c = options.cluster;
    args.push(
      "--cluster_name",
      c.name,
      "--cluster",
      `nats://127.0.0.1:${c.port}`,
      "--routes",
      c.routes.filter((p) => p !== c.port).map((p) => `nats://127.0.0.1:${p}`).join(","),
    );
  }
  if (options.jetstreamDir !== undefined) {
    // A JetStream cluster needs a name per server.
    args.push("-js", "-sd", options.jetstreamDir, "-n", `n${port}`);
  }
  const child = new Deno.Command("nats-server", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const listeners = new Set<() => void>();
  const pump = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      for (const l of [...listeners]) l();
    }
    for (const l of [...listeners]) l();
  })();
  let ended = false;
  const status = child.status.then((s) => {
    ended = true;
    for (const l of [...listeners]) l();
    return s;
  });
  const logged = (pattern: RegExp, count = 1, timeoutMs = 10_000) => {
    const global = new RegExp(
      pattern.source,
      pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g",
    );
    const enough = () => (text.match(global) ?? []).length >= count;
    if (enough()) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () => done(new Error(`nats-server never logged ${pattern} ×${count}:\n${text}`)),
      timeoutMs,
    );
    const check = () => {
      if (enough()) done();
      else if (ended) done(new Error(`nats-server ended before logging ${pattern}:\n${text}`));
    };
    const done = (e?: Error) => {
      clearTimeout(timer);
      listeners.delete(check);
      if (e === undefined) resolve();
      else reject(e);
    };
    listeners.add(check);
    return promise;
  };
  let stopping: Promise<void> | undefined;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    connections: async () => {
      const r = await fetch(`http://127.0.0.1:${monitor}/varz`);
      return ((await r.json()) as { connections: number }).connections;
    },
    log: () => text,
    streams: async () => {
      const r = await fetch(
        `http://127.0.0.1:${monitor}/jsz?accounts=true&streams=true&consumers=true`,
      );
      const j = (await r.json()) as {
        account_details?: {
          stream_detail?: {
            name: string;
            state: { messages: number; last_seq: number };
            consumer_detail?: { name: string; num_ack_pending: number }[];
          }[];
        }[];
      };
      const out = new Map<string, NatsStreamState>();
      for (const a of j.account_details ?? []) {
        for (const s of a.stream_detail ?? []) {
          out.set(s.name, {
            messages: s.state.messages,
            lastSeq: s.state.last_seq,
            ackPending: Object.fromEntries(
              (s.consumer_detail ?? []).map((c) => [c.name, c.num_ack_pending]),
            ),
          });
        }
      }
      return out;
    },
    logged,
    stop: (signal: Deno.Signal = "SIGTERM") => {
      stopping ??= (async () => {
        if (!ended) {
          try {
            Deno.kill(child.pid, signal);
          } catch { /* already gone */ }
        }
        await status;
        await pump;
      })();
      return stopping;
    },
  };
  try {
    await logged(/Server is ready/);
  } catch (e) {
    await server.stop("SIGKILL");
    throw e;
  }
  return server;
}

/** A cluster of nats-servers joined by routes. */
export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Every server's client URL. */
  readonly urls: readonly string[];
  /** Stops every server still running. */
  stop(): Promise<void>;
}

/**
 * Starts `size` servers that route to each other and waits until every one
 * has a route to every other.
 */
export async function startNatsCluster(
  size = 3,
  options: Omit<NatsServerOptions, "cluster" | "port"> = {},
): Promise<NatsCluster> {
  const routes = freePorts(size);
  const name = `mycelium_test_${routes[0]}`;
  const servers: NatsServer[] = [];
  try {
    for (const port of routes) {
      // Each server keeps its JetStream store in a directory of its own.
      const own = options.jetstreamDir === undefined
        ? {}
        : { jetstreamDir: `${options.jetstreamDir}/${port}` };
      servers.push(await startNatsServer({ ...options, ...own, cluster: { name, port, routes } }));
    }
    await Promise.all(servers.map((s) => s.logged(/Route connection created/, size - 1)));
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop("SIGKILL")));
    throw e;
  }
  return {
    servers,
    urls: servers.map((s) => s.url),
    stop: async () => void await Promise.all(servers.map((s) => s.stop())),
  };
}
