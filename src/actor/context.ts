/**
 * The context: everything an actor may do besides computing. It is the only
 * way an actor talks to others, which is what lets the runtime move actors
 * between processes without changing them.
 *
 * @module
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";
import type { Logger } from "../logger.ts";

/** Options of {@linkcode Context.request}; `reply` is required. */
export interface RequestOptions<R extends Fields = Fields> {
  /** The message type of the reply; a reply of another type fails the request. */
  reply: MessageType<R>;
  /**
   * Give up after this many milliseconds (checked by a shared sweep, so the
   * failure comes at most about 3 %, or 2 ms, later). Default: 5000.
   */
  timeoutMs?: number;
  /** Give up when this signal aborts (in addition to the timeout). */
  signal?: AbortSignal;
}

/**
 * What an actor can do. Messages are always values of a codec
 * {@linkcode MessageType}, so any of them can cross a process boundary.
 *
 * `send` and `publish` return `undefined` when every destination took the
 * message at once, and a promise only when a mailbox with the `wait` overflow
 * policy is full (it resolves once the message is queued, and rejects if the
 * receiver stops first). Return or await it: a handler's returned promise
 * holds its actor until it settles, which is how backpressure travels up a
 * pipeline.
 */
export interface Context {
  /** The actor's name. */
  readonly name: string;
  /** A logger whose records carry the actor's name. */
  readonly log: Logger;
  /** Aborts when the runtime begins to shut down. */
  readonly signal: AbortSignal;

  /**
   * Sends to the actor named `to`, wherever it runs.
   *
   * @throws {BusError} `BUS_NO_ROUTE` when no actor has that name.
   */
  send<F extends Fields>(
    to: string,
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void>;

  /**
   * Publishes to every subscriber of `type` and of its topic, wherever they
   * run. Local subscribers receive this very object (no copy).
   */
  publish<F extends Fields>(
    type: MessageType<F>,
    message: Readonly<Infer<NoInfer<F>>>,
  ): void | Promise<void>;

  /**
   * Sends a request to `to` and resolves with its reply, which must be of
   * type `options.reply`.
   *
   * @example
   * ```ts ignore
   * const price = await ctx.request("pricer", Quote, { pool: 7 }, { reply: Price, timeoutMs: 100 });
   * ```
   *
   * @throws {RequestTimeoutError} when no reply came in time.
   * @throws {BusError} `BUS_NO_ROUTE`, `BUS_NO_REPLY` (the handler finished
   *   without replying), `BUS_REPLY_TYPE`, `BUS_ABORTED`, `BUS_CLOSED`.
   */
  request<Q extends Fields, R extends Fields>(
    to: string,
    type: MessageType<Q>,
    message: Readonly<Infer<NoInfer<Q>>>,
    options: RequestOptions<R>,
  ): Promise<Readonly<Infer<R>>>;

  /**
   * Replies to the request being handled. Call it at most once, before the
   * handler finishes (an async handler may await first).
   *
   * @throws {BusError} `BUS_NOT_A_REQUEST` when the current message is not a
   *   request or was already answered.
   */
  reply<F extends Fields>(type: MessageType<F>, message: Readonly<Infer<NoInfer<F>>>): void;
}
