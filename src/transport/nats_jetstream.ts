/**
 * {@linkcode NatsJetStream}: the JetStream side of a {@linkcode NatsTransport}
 * connection: one stream per deployment, a durable consumer per receiving
 * group, publishes with message ids that resolve on the server's
 * acknowledgement, and messages acknowledged by their receiver.
 *
 * The client (`npm:@nats-io/jetstream`, the same nats.js v3 family as the
 * connection) is loaded by a dynamic import the first time a deployment
 * asks for JetStream, so a run without it never loads it; the literal
 * specifier keeps it in what `deno compile` embeds.
 *
 * @module
 */
import { type Logger, NULL_LOGGER } from "../logger.ts";
import { TransportError } from "./transport_error.ts";

/** What a durable consumer has not finished, as the servers count it ({@linkcode NatsJetStream.backlog}). */
export interface NatsJetStreamBacklog {
  /** Messages handed out and not acknowledged yet. */
  readonly ackPending: number;
  /** Messages stored for it and not handed out yet. */
  readonly pending: number;
  /** A message handed out and not acknowledged within this many ms is handed out again. */
  readonly ackWaitMs: number;
}
/** Options of {@linkcode NatsJetStream.open}. */
export interface NatsJetStreamOptions {
  /** Stream name (letters, digits, `_`, `-`). */
  stream: string;
  /** Subjects the stream stores (e.g. `mycelium.j.>`). */
  subjects: readonly string[];
  /** Servers holding a copy of each message (1 to 5). Default: 1. */
  replicas?: number;
  /** How long a message id is remembered, so a publish retried inside it is stored once, in ms. Default: 120000. */
  duplicateWindowMs?: number;
  /** How long a publish waits for the server's acknowledgement before it is retried, in ms. Default: 5000. */
  publishTimeoutMs?: number;
  /** How long the stream may take to be ready (a new cluster elects its leaders), in ms. Default: 30000. */
  readyTimeoutMs?: number;
  /** Where retries are logged. Default: nowhere. */
  logger?: Logger;
}

/** A message of a durable consumer. */
export interface NatsJetStreamMessage {
  /** The payload. */
  readonly data: Uint8Array;
  /** Its subject. */
  readonly subject: string;
  /** The id its publisher gave it (`Nats-Msg-Id`), if any. */
  readonly msgId: string | undefined;
  /** Whether the server delivered it before (to this consumer, any instance). */
  readonly redelivered: boolean;
  /** Tells the server it was handled: it is not delivered again. */
  ack(): void;
}

/** Options of {@linkcode NatsJetStream.consume}. */
export interface NatsConsumeOptions {
  /** Messages handed out and not yet acknowledged, at most. Default: 1024. */
  maxAckPending?: number;
  /** A message not acknowledged within this many ms is delivered again. Default: 10000. */
  ackWaitMs?: number;
  /**
   * Delete the consumer first, if it exists: what its previous user took
   * and never acknowledged is then handed out at once, in stream order (the
   * stream keeps every message until it is acknowledged). Default: false.
   */
  fresh?: boolean;
}

/** The parts of the JetStream client this module uses. */
interface JsMsg {
  data: Uint8Array;
  subject: string;
  redelivered: boolean;
  headers?: { get(k: string): string } | undefined;
  ack(): void;
}
interface JsClient {
  publish(
    subject: string,
    data: Uint8Array,
    options: { msgID: string; timeout: number; retries: number },
  ): Promise<{ duplicate: boolean; seq: number }>;
  consumers: {
    get(stream: string, name: string): Promise<{
      consume(options: {
        callback: (m: JsMsg) => void;
        max_messages: number;
        expires: number;
        idle_heartbeat: number;
      }): Promise<{ stop(): void; close(): Promise<void | Error> }>;
    }>;
  };
}
interface JsManager {
  streams: {
    add(cfg: Record<string, unknown>): Promise<unknown>;
    update(name: string, cfg: Record<string, unknown>): Promise<unknown>;
  };
  consumers: {
    add(stream: string, cfg: Record<string, unknown>): Promise<unknown>;
    delete(stream: string, name: string): Promise<boolean>;
    info(stream: string, name: string): Promise<{
      num_ack_pending: number;
      num_pending: number;
      config: { ack_wait?: number };
    }>;
  };
}

const NS_PER_MS = 1_000_000;
/** The acknowledgement deadline of a consumer made without `ackWaitMs`, in ms. */
export const DEFAULT_ACK_WAIT_MS = 10_000;

/**
 * JetStream over one NATS connection: the deployment's stream exists once
 * {@linkcode NatsJetStream.open} resolves.
 *
 * @example
 * ```ts ignore
 * const nats = await NatsTransport.connect({ servers: ["nats://127.0.0.1:4222"] });
 * const js = await nats.jetstream({ stream: "MYCELIUM", subjects: ["mycelium.j.>"] });
 * await js.publish("mycelium.j.books.a.audit", new Uint8Array([1]), "id-1");
 * ```
 */
export class NatsJetStream {
  readonly #js: JsClient;
  readonly #jsm: JsManager;
  readonly #stream: string;
  readonly #timeout: number;
  readonly #address: string;
  readonly #log: Logger;

  private constructor(
    js: JsClient,
    jsm: JsManager,
    options: NatsJetStreamOptions,
    address: string,
  ) {
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = options.stream;
    this.#timeout = options.publishTimeoutMs ?? 5000;
    this.#address = address;
    this.#log = options.logger ?? NULL_LOGGER;
  }

  /**
   * Creates the stream (or finds it, with the same settings) on connection
   * `client` (a nats.js v3 connection; `NatsTransport.jetstream` passes its own).
   *
   * @throws {TransportError} `TRANSPORT_JETSTREAM` when the servers have no
   *   JetStream, or the stream cannot be created within `readyTimeoutMs`.
   */
  static async open(
    client: unknown,
    options: NatsJetStreamOptions,
    address: string,
  ): Promise<NatsJetStream> {
    const lib = await import("npm:@nats-io/jetstream@3.4.0");
    // deno-lint-ignore no-explicit-any
    const nc = client as any;
    const js = lib.jetstream(nc) as unknown as JsClient;
    const cfg = {
      name: options.stream,
      subjects: [...options.subjects],
      retention: "workqueue",
      storage: "file",
      num_replicas: options.replicas ?? 1,
      duplicate_window: (options.duplicateWindowMs ?? 120_000) * NS_PER_MS,
    };
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    let jsm: JsManager | undefined;
    for (let wait = 100;; wait = Math.min(wait * 2, 1000)) {
      try {
        jsm ??= await lib.jetstreamManager(nc) as unknown as JsManager;
        await jsm.streams.add(cfg);
        break;
      } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        // Several groups create it at once: the same settings are no conflict.
        if (/already in use/i.test(text) && jsm !== undefined) {
          try {
            await jsm.streams.update(options.stream, cfg);
            break;
          } catch (u) {
            throw jetStreamError(
              `stream ${options.stream} exists with other settings: ${String(u)}`,
              "delete it (nats stream rm) or use another subject_prefix",
              address,
              u,
            );
          }
        }
        if (/not enabled/i.test(text) || Date.now() + wait > deadline) {
          throw jetStreamError(
            `cannot create stream ${options.stream}: ${text}`,
            "enable JetStream on every server (nats-server -js -sd <dir>) and check " +
              "nats: jetstream: replicas (at most the number of servers)",
            address,
            e,
          );
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    return new NatsJetStream(js, jsm, options, address);
  }

  /** The stream's name. */
  get stream(): string {
    return this.#stream;
  }

  /**
   * Stores `data` on `subject` under id `msgId` and resolves once a server
   * acknowledged it (a duplicate id inside the window is acknowledged
   * without a second copy).
   *
   * @throws {TransportError} `TRANSPORT_JETSTREAM` when the servers refused
   *   it or did not answer in time (retry with the same id).
   */
  async publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    try {
      await this.#js.publish(subject, data, { msgID: msgId, timeout: this.#timeout, retries: 1 });
    } catch (e) {
      throw jetStreamError(
        `publish on ${subject} not acknowledged: ${e instanceof Error ? e.message : String(e)}`,
        "it is retried with the same message id",
        this.#address,
        e,
      );
    }
  }

  /**
   * Creates (or finds) durable consumer `durable` of the messages on
   * `filter` and calls `handler` for each; resolves with the function that
   * stops it. Unacknowledged messages are delivered again, to this process
   * or to the next one that consumes as `durable`.
   */
  async consume(
    filter: string,
    durable: string,
    handler: (m: NatsJetStreamMessage) => void,
    options: NatsConsumeOptions = {},
  ): Promise<() => void> {
    const maxAckPending = options.maxAckPending ?? 1024;
    if (options.fresh === true) {
      await this.#jsm.consumers.delete(this.#stream, durable).catch(() => false);
    }
    try {
      await this.#jsm.consumers.add(this.#stream, {
        durable_name: durable,
        filter_subject: filter,
        ack_policy: "explicit",
        deliver_policy: "all",
        max_ack_pending: maxAckPending,
        ack_wait: (options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) * NS_PER_MS,
      });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (!/already in use|already exists/i.test(text)) {
        throw jetStreamError(
          `cannot create consumer ${durable} on ${this.#stream}: ${text}`,
          "check that JetStream runs on the servers",
          this.#address,
          e,
        );
      }
    }
    const consumer = await this.#js.consumers.get(this.#stream, durable);
    const messages = await consumer.consume({
      max_messages: Math.max(1, Math.min(maxAckPending, 512)),
      // A pull held by a server that died is noticed by missed heartbeats and sent again:
      // short ones keep that to seconds (the defaults, 30 s pulls, left a run waiting ~40 s).
      expires: 5000,
      idle_heartbeat: 1000,
      callback: (m) => {
        const msg: NatsJetStreamMessage = {
          data: m.data,
          subject: m.subject,
          msgId: m.headers?.get("Nats-Msg-Id") || undefined,
          redelivered: m.redelivered,
          ack: () => m.ack(),
        };
        try {
          handler(msg);
        } catch (e) {
          this.#log.error("a JetStream message handler threw", { subject: m.subject, error: e });
        }
      },
    });
    return () => messages.stop();
  }

  /**
   * What durable consumer `durable` has not finished (one request to the
   * servers): messages handed out and not acknowledged (an acknowledgement
   * lost with a server counts here until the message is handed out again
   * and acknowledged), and messages not handed out yet.
   *
   * @throws {TransportError} `TRANSPORT_JETSTREAM` when the servers did not
   *   answer, or know no such consumer.
   */
  async backlog(durable: string): Promise<NatsJetStreamBacklog> {
    try {
      const info = await this.#jsm.consumers.info(this.#stream, durable);
      return {
        ackPending: info.num_ack_pending,
        pending: info.num_pending,
        ackWaitMs: (info.config.ack_wait ?? DEFAULT_ACK_WAIT_MS * NS_PER_MS) / NS_PER_MS,
      };
    } catch (e) {
      throw jetStreamError(
        `no information on consumer ${durable} of ${this.#stream}: ${
          e instanceof Error ? e.message : String(e)
        }`,
        "check that JetStream runs on the servers",
        this.#address,
        e,
      );
    }
  }
}

function jetStreamError(
  what: string,
  fix: string,
  address: string,
  cause: unknown,
): TransportError {
  return new TransportError("TRANSPORT_JETSTREAM", `${what}; ${fix}`, { address, cause });
}
