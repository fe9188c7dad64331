/**
 * Errors of the MessageBus and MonolithBus.
 *
 * @module
 */
import { MyceliumError, type MyceliumErrorOptions } from "../mycelium_error.ts";

/** Every code a {@linkcode BusError} can carry. */
export type BusErrorCode =
  /** No actor (local or behind a link) has the destination name. */
  | "BUS_NO_ROUTE"
  /** The destination actor has no handler for the message type. */
  | "BUS_NO_HANDLER"
  /** An actor with this name already runs on the bus. */
  | "BUS_DUPLICATE_NAME"
  /** The bus is shutting down or closed. */
  | "BUS_CLOSED"
  /** The destination mailbox is full (policy `error`, or too many waiting senders). */
  | "BUS_MAILBOX_FULL"
  /** A message was dropped by an overflow policy before it was handled (a request's requester gets this). */
  | "BUS_DROPPED"
  /** The destination actor stopped before handling the message. */
  | "BUS_ACTOR_STOPPED"
  /** No reply came before the request's deadline. */
  | "BUS_REQUEST_TIMEOUT"
  /** The request's signal aborted. */
  | "BUS_ABORTED"
  /** The request's handler finished without replying. */
  | "BUS_NO_REPLY"
  /** The reply is not of the type the requester expects. */
  | "BUS_REPLY_TYPE"
  /** `reply` was called outside a request or twice. */
  | "BUS_NOT_A_REQUEST"
  /** The request's handler threw or rejected. */
  | "BUS_HANDLER_FAILED"
  /** Faithful mode: the message does not survive the codec round trip. */
  | "BUS_NOT_SERIALIZABLE"
  /** An option or a route declaration is invalid. */
  | "BUS_INVALID_OPTION";

/** Options of {@linkcode BusError}. */
export interface BusErrorOptions extends MyceliumErrorOptions {
  /** The actor concerned, if any. */
  actor?: string | undefined;
  /** Name of the message type concerned, if any. */
  messageType?: string | undefined;
}

/**
 * A bus operation failed. Branch on `code`.
 *
 * @example
 * ```ts
 * import { BusError } from "./bus_error.ts";
 * const err = new BusError("BUS_NO_ROUTE", "no actor named 'x'", { actor: "x" });
 * if (err.code !== "BUS_NO_ROUTE" || err.actor !== "x") throw new Error("unreachable");
 * ```
 */
export class BusError extends MyceliumError {
  /** Stable, machine-readable identifier of the failure. */
  declare readonly code: BusErrorCode;
  /** The actor concerned, if any. */
  readonly actor: string | undefined;
  /** Name of the message type concerned, if any. */
  readonly messageType: string | undefined;

  /** Creates a bus error. */
  constructor(code: BusErrorCode, message: string, options: BusErrorOptions = {}) {
    super(code, message, options);
    this.actor = options.actor;
    this.messageType = options.messageType;
  }
}

/**
 * A mailbox refused a message (`error` overflow policy, or more waiting
 * senders than allowed). Carries the undelivered message so nothing is lost.
 *
 * @example
 * ```ts
 * import { MailboxFullError } from "./bus_error.ts";
 * const err = new MailboxFullError("risk", "V2Swap", { n: 1 });
 * if (err.code !== "BUS_MAILBOX_FULL" || err.undelivered === undefined) throw new Error("unreachable");
 * ```
 */
export class MailboxFullError extends BusError {
  /** The message that was not delivered. */
  readonly undelivered: unknown;

  /** Creates the error for `actor`'s mailbox. */
  constructor(actor: string, messageType: string, undelivered: unknown) {
    super("BUS_MAILBOX_FULL", `mailbox of actor '${actor}' is full; ${messageType} not delivered`, {
      actor,
      messageType,
    });
    this.undelivered = undelivered;
  }
}

/**
 * A request got no reply before its deadline.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "./bus_error.ts";
 * const err = new RequestTimeoutError("pricer", "Quote", 50);
 * if (err.code !== "BUS_REQUEST_TIMEOUT" || err.timeoutMs !== 50) throw new Error("unreachable");
 * ```
 */
export class RequestTimeoutError extends BusError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  /** Creates the error for a request to `actor`. */
  constructor(actor: string, messageType: string, timeoutMs: number) {
    super(
      "BUS_REQUEST_TIMEOUT",
      `request ${messageType} to actor '${actor}' got no reply within ${timeoutMs} ms`,
      { actor, messageType },
    );
    this.timeoutMs = timeoutMs;
  }
}
