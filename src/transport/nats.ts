/**
 * {@linkcode NatsTransport}: one client connection to a NATS cluster, as the
 * runtime uses it (publish, subscribe, flush, status), with typed errors.
 *
 * The client (`npm:@nats-io/transport-node`) is loaded by a dynamic import
 * the first time a connection is opened, so a program whose topology never
 * uses nats (a monolith, Unix and TCP links) never loads it; the literal
 * specifier keeps it in what `deno compile` embeds.
 *
 * Core NATS delivers at most once: a message published while no server can
 * take it, or dropped by a server for a slow consumer, is gone. The client
 * buffers publishes while it reconnects; what the runtime loses is counted
 * (see `NatsPeer`), never silent.
 *
 * @module
 */
import type { NatsAuth, NatsTls } from "../topology/topology.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import { NatsJetStream, type NatsJetStreamOptions } from "./nats_jetstream.ts";
import { TransportError } from "./transport_error.ts";

/** Options of {@linkcode NatsTransport.connect}. */
export interface NatsTransportOptions {
  /** Server URLs (`nats://host:port`, `tls://host:port`); the client fails over between them. */
  servers: readonly string[];
  /** Credentials. Default: none. */
  auth?: NatsAuth | undefined;
  /** TLS files. Default: plain TCP, unless a URL says `tls://`. */
  tls?: NatsTls | undefined;
  /** Connection name shown by the servers (e.g. the process group). Default: `mycelium`. */
  name?: string;
  /** Where connection events are logged. Default: nowhere. */
  logger?: Logger;
  /** How long the first connection may take, in ms. Default: 5000. */
  timeoutMs?: number;
  /** Wait between reconnect attempts to one server, in ms. Default: 250. */
  reconnectWaitMs?: number;
}

/**
 * A message as a subscription hands it on. `subject` and `reply` are decoded
 * from bytes when first read: read them only when needed.
 */
export interface NatsMessage {
  /** The payload (a view into the client's read buffer, never rewritten). */
  readonly data: Uint8Array;
  /** The subject it was published on. */
  readonly subject: string;
  /** The reply subject its publisher gave, if any. */
  readonly reply?: string | undefined;
}

/** Called for each message of a subscription. */
export type NatsHandler = (message: NatsMessage) => void;

/** What happened to the connection: the events the runtime counts. */
export type NatsEvent =
  | { readonly type: "disconnect"; readonly server: string }
  | { readonly type: "reconnect"; readonly server: string }
  | { readonly type: "slowConsumer"; readonly subject: string; readonly pending: number }
  | { readonly type: "error"; readonly error: TransportError }
  | { readonly type: "close" };

/** Counters of a {@linkcode NatsTransport}. */
export interface NatsTransportStats {
  /** Connections lost. */
  readonly disconnects: number;
  /** Connections made again after one was lost. */
  readonly reconnects: number;
  /** Slow-consumer events (the client or a server could not keep up with a subscription). */
  readonly slowConsumers: number;
  /** Messages published. */
  readonly outMsgs: number;
  /** Messages received. */
  readonly inMsgs: number;
}

/** The parts of the client's connection this module uses. */
interface Client {
  publish(subject: string, data: Uint8Array, options?: { reply?: string }): void;
  subscribe(
    subject: string,
    options: { callback: (err: Error | null, msg: NatsMessage) => void; slow?: number },
  ): { unsubscribe(): void };
  flush(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
  isClosed(): boolean;
  getServer(): string;
  status(): AsyncIterable<{ type: string; server?: string; pending?: number; sub?: unknown }>;
  stats(): { outMsgs: number; inMsgs: number };
}

/**
 * A connection to a NATS cluster.
 *
 * @example
 * ```ts ignore
 * const nats = await NatsTransport.connect({ servers: ["nats://127.0.0.1:4222"] });
 * nats.subscribe("greetings", (data) => console.log(data.length));
 * nats.publish("greetings", new Uint8Array([1, 2, 3]));
 * await nats.flush();
 * await nats.close();
 * ```
 */
export class NatsTransport implements AsyncDisposable {
  readonly #client: Client;
  readonly #log: Logger;
  readonly #listeners = new Set<(e: NatsEvent) => void>();
  readonly #servers: string;
  #disconnects = 0;
  #reconnects = 0;
  #slowConsumers = 0;
  #closing: Promise<void> | undefined;
  #watch: Promise<void>;
  /** The options of the last reply subject published with (one object, not one per message). */
  #replyOptions: { reply?: string } = {};

  private constructor(client: Client, servers: string, log: Logger) {
    this.#client = client;
    this.#servers = servers;
    this.#log = log;
    this.#watch = this.#watchStatus();
  }

  /**
   * Connects to the first server that answers.
   *
   * @throws {TransportError} `TRANSPORT_AUTH` when the servers refuse the
   *   credentials, `TRANSPORT_CONNECT` when none can be reached (or TLS
   *   fails), `TRANSPORT_HANDSHAKE` for an unreadable nkey or creds file.
   */
  static async connect(options: NatsTransportOptions): Promise<NatsTransport> {
    const servers = options.servers.join(", ");
    const nats = await import("npm:@nats-io/transport-node@3.4.0");
    const auth = options.auth;
    const secret: Record<string, unknown> = {};
    try {
      if (auth?.kind === "token") secret.token = auth.token;
      else if (auth?.kind === "user") {
        secret.user = auth.user;
        secret.pass = auth.password;
      } else if (auth?.kind === "nkey") {
        const seed = (await Deno.readTextFile(auth.seedFile)).trim();
        secret.authenticator = nats.nkeyAuthenticator(new TextEncoder().encode(seed));
      } else if (auth?.kind === "creds") {
        secret.authenticator = nats.credsAuthenticator(await Deno.readFile(auth.credsFile));
      }
    } catch (e) {
      throw new TransportError(
        "TRANSPORT_HANDSHAKE",
        `cannot read the NATS credentials file: ${e instanceof Error ? e.message : String(e)}; ` +
          `check the path under nats: in the topology`,
        { address: servers, cause: e },
      );
    }
    const tls = options.tls;
    let client: Client;
    try {
      client = await nats.connect({
        servers: [...options.servers],
        name: options.name ?? "mycelium",
        noEcho: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectWaitMs ?? 250,
        timeout: options.timeoutMs ?? 5000,
        ...secret,
        ...(tls === undefined ? {} : {
          tls: {
            ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
            ...(tls.certFile === undefined ? {} : { certFile: tls.certFile }),
            ...(tls.keyFile === undefined ? {} : { keyFile: tls.keyFile }),
          },
        }),
      }) as unknown as Client;
    } catch (e) {
      ignoreStraySocketErrors();
      throw connectError(e, servers, auth);
    }
    return new NatsTransport(client, servers, options.logger ?? NULL_LOGGER);
  }

  /** The servers, as configured. */
  get address(): string {
    return this.#servers;
  }

  /** The server this connection is on now. */
  get server(): string {
    return this.#client.getServer();
  }

  /** Whether the connection closed for good. */
  get closed(): boolean {
    return this.#closing !== undefined || this.#client.isClosed();
  }

  /** Counters. */
  stats(): NatsTransportStats {
    const s = this.#client.stats();
    return {
      disconnects: this.#disconnects,
      reconnects: this.#reconnects,
      slowConsumers: this.#slowConsumers,
      outMsgs: s.outMsgs,
      inMsgs: s.inMsgs,
    };
  }

  /**
   * Publishes `data` on `subject`. The client keeps a reference to `data`
   * until it writes it (after the current task): do not change those bytes.
   *
   * @throws {TransportError} `TRANSPORT_CLOSED` once the connection closed.
   */
  publish(subject: string, data: Uint8Array, reply?: string): void {
    if (this.#closing !== undefined) {
      throw new TransportError("TRANSPORT_CLOSED", `the NATS connection is closed`, {
        address: this.#servers,
      });
    }
    try {
      let options: { reply?: string } | undefined;
      if (reply !== undefined) {
        options = this.#replyOptions;
        if (options.reply !== reply) options = this.#replyOptions = { reply };
      }
      this.#client.publish(subject, data, options);
    } catch (e) {
      throw new TransportError(
        this.#client.isClosed() ? "TRANSPORT_CLOSED" : "TRANSPORT_PROTOCOL",
        `cannot publish on ${subject}: ${e instanceof Error ? e.message : String(e)}`,
        { address: this.#servers, cause: e },
      );
    }
  }

  /**
   * Calls `handler` for each message on `subject` (wildcards allowed). A
   * subscription with more than `slow` messages waiting in the client is
   * reported as a slow consumer. Returns the unsubscribe function.
   */
  subscribe(subject: string, handler: NatsHandler, slow = 65_536): () => void {
    const sub = this.#client.subscribe(subject, {
      slow,
      callback: (err, msg) => {
        if (err !== null) {
          this.#log.warn("NATS subscription error", { subject, error: err });
          return;
        }
        handler(msg);
      },
    });
    return () => {
      if (!this.#client.isClosed()) sub.unsubscribe();
    };
  }

  /**
   * Opens JetStream on this connection: creates the deployment's stream (or
   * finds it). The JetStream client is loaded here, only when asked for.
   *
   * @throws {TransportError} `TRANSPORT_JETSTREAM` when the servers have no
   *   JetStream or the stream cannot be created.
   */
  jetstream(options: NatsJetStreamOptions): Promise<NatsJetStream> {
    return NatsJetStream.open(this.#client, { logger: this.#log, ...options }, this.#servers);
  }

  /** Resolves when a server has processed everything published before. */
  async flush(): Promise<void> {
    try {
      await this.#client.flush();
    } catch (e) {
      throw new TransportError("TRANSPORT_CLOSED", `NATS flush failed: ${String(e)}`, {
        address: this.#servers,
        cause: e,
      });
    }
  }

  /** Calls `listener` for every connection event; returns the unsubscribe function. */
  onEvent(listener: (e: NatsEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drains subscriptions and what is buffered, then closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (!this.#client.isClosed()) await this.#client.drain();
      } catch {
        await this.#client.close().catch(() => {});
      }
      await this.#watch;
    })();
    return this.#closing;
  }

  /** `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #emit(e: NatsEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (error) {
        this.#log.error("a NATS event listener threw", { error });
      }
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#client.status()) {
      switch (s.type) {
        case "disconnect":
          this.#disconnects++;
          this.#log.warn("NATS connection lost; the client reconnects", { server: s.server });
          this.#emit({ type: "disconnect", server: String(s.server ?? "") });
          break;
        case "reconnect":
          this.#reconnects++;
          this.#log.info("NATS connection back", { server: s.server });
          this.#emit({ type: "reconnect", server: String(s.server ?? "") });
          break;
        case "slowConsumer": {
          this.#slowConsumers++;
          const subject = String((s.sub as { getSubject?: () => string })?.getSubject?.() ?? "");
          this.#emit({ type: "slowConsumer", subject, pending: s.pending ?? 0 });
          break;
        }
        case "error": {
          const error = new TransportError(
            "TRANSPORT_PEER_ERROR",
            `a NATS server reported: ${String((s as { error?: unknown }).error ?? "")}`,
            { address: this.#servers },
          );
          this.#log.warn(error.message, { code: error.code });
          this.#emit({ type: "error", error });
          break;
        }
        case "close":
          this.#emit({ type: "close" });
          return;
      }
    }
  }
}

/**
 * After a refused connection the client drops its socket's listeners, and a
 * reset the server sends next surfaces as an uncaught error that would end
 * the process before the typed error is reported. For a short while, such
 * resets are ignored (they belong to the connection already given up).
 */
function ignoreStraySocketErrors(): void {
  const ignore = (e: ErrorEvent) => {
    const code = (e.error as { code?: unknown } | undefined)?.code;
    if (code === "ECONNRESET" || code === "EPIPE") e.preventDefault();
  };
  globalThis.addEventListener("error", ignore);
  const timer = setTimeout(() => globalThis.removeEventListener("error", ignore), 2000);
  Deno.unrefTimer(timer);
}

function connectError(e: unknown, servers: string, auth: NatsAuth | undefined): TransportError {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : "";
  if (/authoriz|authentic|auth.*violation|user.*expired/i.test(text + cause)) {
    return new TransportError(
      "TRANSPORT_AUTH",
      `the NATS servers at ${servers} refused this deployment's credentials ` +
        `(${auth === undefined ? "none given" : auth.kind}): ${
          e instanceof Error ? e.message : text
        }; ` +
        `fix token, user/password, nkey or creds under nats: in the topology`,
      { address: servers, cause: e },
    );
  }
  return new TransportError(
    "TRANSPORT_CONNECT",
    `cannot reach any NATS server at ${servers}: ${text}${cause}; ` +
      `check nats: servers in the topology and that the servers run`,
    { address: servers, cause: e },
  );
}
