/**
 * The JetStream pieces of a {@linkcode NatsPeer}: publishes that wait for
 * the server's acknowledgement (retried with the same message id until
 * one comes), the receiver's memory of what it handled, so a redelivered
 * message is acknowledged again but handled once, and the receiver's wait
 * at the end of a run for its consumer to have nothing left.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { TransportError } from "../transport/transport_error.ts";
import { DEFAULT_ACK_WAIT_MS, type NatsJetStreamBacklog } from "../transport/nats_jetstream.ts";

/** The JetStream side of a NATS connection, as a `NatsPeer` uses it (`NatsJetStream` has it). */
export interface NatsJetStreamWire {
  /** Stores `data` on `subject` under `msgId`; resolves on the server's acknowledgement. */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<void>;
  /**
   * Consumes durable consumer `durable` (messages on `filter`); resolves with
   * the function that stops it.
   */
  consume(
    filter: string,
    durable: string,
    handler: (m: NatsJetStreamWireMessage) => void,
    options?: { maxAckPending?: number; fresh?: boolean },
  ): Promise<() => void>;
  /**
   * What durable consumer `durable` has not finished, as the servers count
   * it (one request). Without it, a receiver does not wait for its consumer
   * at the end of a run.
   */
  backlog?(durable: string): Promise<NatsJetStreamBacklog>;
}

/** A message of a durable consumer. */
export interface NatsJetStreamWireMessage {
  /** The payload. */
  readonly data: Uint8Array;
  /** Its subject. */
  readonly subject: string;
  /** Its publisher's id for it. */
  readonly msgId: string | undefined;
  /** The server delivered it before. */
  readonly redelivered: boolean;
  /** Tells the server it was handled. */
  ack(): void;
}

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

/**
 * Publishes with at most `window` unacknowledged by the servers; past it,
 * `publish` returns a promise that resolves when the message could start.
 * A publish the servers do not acknowledge is retried with the same id
 * (stored once thanks to the stream's duplicate window) until they do or
 * the publisher closes.
 */
export class JetStreamPublisher {
  readonly #wire: NatsJetStreamWire;
  readonly #window: number;
  readonly #maxWaiting: number;
  readonly #log: Logger;
  #inFlight = 0;
  #waiting: (() => void)[] = [];
  #waitingHead = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #closed = false;
  #retries = 0;
  #abandoned = 0;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(wire: NatsJetStreamWire, window: number, maxWaiting: number, log: Logger) {
    this.#wire = wire;
    this.#window = Math.max(1, window);
    this.#maxWaiting = maxWaiting;
    this.#log = log;
  }

  /** Publishes not yet acknowledged, and publishes retried. */
  stats(): { inFlight: number; retries: number; abandoned: number } {
    return { inFlight: this.#inFlight, retries: this.#retries, abandoned: this.#abandoned };
  }

  /**
   * Starts publishing `data` (its bytes must not change until acknowledged).
   *
   * @throws {TransportError} `TRANSPORT_BUFFER_FULL` when `maxWaiting`
   *   publishes already wait for room; `TRANSPORT_CLOSED` once closed.
   */
  publish(subject: string, data: Uint8Array, msgId: string): void | Promise<void> {
    if (this.#closed) {
      throw new TransportError("TRANSPORT_CLOSED", "the JetStream publisher is closed", {
        peer: "nats",
      });
    }
    if (this.#inFlight < this.#window && this.#waitingHead === this.#waiting.length) {
      this.#start(subject, data, msgId);
      return;
    }
    if (this.#waiting.length - this.#waitingHead >= this.#maxWaiting) {
      throw new TransportError(
        "TRANSPORT_BUFFER_FULL",
        `${this.#window} JetStream publishes wait for the servers' acknowledgement and ` +
          `${this.#maxWaiting} more wait for room; message on ${subject} not sent`,
        { peer: "nats" },
      );
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.push(() => {
      this.#start(subject, data, msgId);
      resolve();
    });
    return promise;
  }

  /** Resolves when every publish was acknowledged (or the publisher closed). */
  async settled(): Promise<void> {
    while (!this.#closed && (this.#inFlight > 0 || this.#waitingHead < this.#waiting.length)) {
      this.#idle ??= Promise.withResolvers<void>();
      await this.#idle.promise;
    }
  }

  /** Stops retrying; returns how many publishes were never acknowledged. Idempotent. */
  close(): number {
    if (!this.#closed) {
      this.#closed = true;
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      this.#abandoned += this.#inFlight + this.#waiting.length - this.#waitingHead;
      this.#waiting = [];
      this.#waitingHead = 0;
      this.#idle?.resolve();
    }
    return this.#abandoned;
  }

  #start(subject: string, data: Uint8Array, msgId: string): void {
    this.#inFlight++;
    let wait = RETRY_FIRST_MS;
    const attempt = () => {
      if (this.#closed) return;
      this.#wire.publish(subject, data, msgId).then(
        () => {
          if (this.#closed) return;
          this.#inFlight--;
          this.#next();
        },
        (e) => {
          if (this.#closed) return;
          this.#retries++;
          this.#log.warn("JetStream publish not acknowledged; retried with the same id", {
            subject,
            msgId,
            error: e,
          });
          const t = setTimeout(() => {
            this.#timers.delete(t);
            attempt();
          }, wait);
          this.#timers.add(t);
          wait = Math.min(wait * 2, RETRY_MAX_MS);
        },
      );
    };
    attempt();
  }

  #next(): void {
    while (this.#inFlight < this.#window && this.#waitingHead < this.#waiting.length) {
      const start = this.#waiting[this.#waitingHead]!;
      this.#waiting[this.#waitingHead++] = undefined as unknown as () => void;
      start();
    }
    if (this.#waitingHead === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#waitingHead = 0;
      if (this.#inFlight === 0) {
        const idle = this.#idle;
        this.#idle = undefined;
        idle?.resolve();
      }
    }
  }
}

/**
 * What a receiver handled, per sender instance and subject: the next
 * sequence number it expects. The stream hands messages out in the order
 * they were stored, so a number below it is a redelivery (handled already)
 * unless the server says it is a first delivery (a publish retried after
 * its successors were stored: late, handled, counted).
 */
export class JetStreamDedup {
  readonly #next = new Map<string, number>();
  #duplicates = 0;
  #late = 0;

  /** Redeliveries skipped, and first deliveries that came after their successors. */
  stats(): { duplicates: number; late: number } {
    return { duplicates: this.#duplicates, late: this.#late };
  }

  /**
   * Whether message `seq` of stream `key` (sender instance and subject)
   * should be handled: false for a redelivery of one handled before.
   */
  admit(key: string, seq: number, redelivered: boolean): boolean {
    const next = this.#next.get(key);
    if (next === undefined || seq >= next) {
      this.#next.set(key, seq + 1);
      return true;
    }
    if (redelivered) {
      this.#duplicates++;
      return false;
    }
    this.#late++;
    return true;
  }
}

/** Past the consumer's acknowledgement deadline, how long a receiver still waits for it, in ms. */
const DRAIN_MARGIN_MS = 2000;
const DRAIN_POLL_FIRST_MS = 50;
const DRAIN_POLL_MAX_MS = 500;

/**
 * Waits until the servers count nothing unfinished for a receiver's
 * consumer (`backlog` asks them), while the consumer still runs: an
 * acknowledgement lost with a server leaves its message handed out and
 * unacknowledged, and the servers hand it out again after the consumer's
 * acknowledgement deadline; the receiver skips it (handled already) and
 * acknowledges it. Stopped earlier, the consumer would leave it in the
 * stream for the group's next run, which would handle it a second time.
 *
 * Asks once when nothing is left (the usual end of a run), then again
 * every 50 to 500 ms, for at most the deadline plus 2 s, or until
 * `stopped()`. Logs a warning when messages are still left then (or the
 * servers never answered); the run goes on.
 */
export async function consumerDrained(
  backlog: () => Promise<NatsJetStreamBacklog>,
  stopped: () => boolean,
  log: Logger,
  group: string,
): Promise<void> {
  const started = Date.now();
  let deadline = started + DEFAULT_ACK_WAIT_MS + DRAIN_MARGIN_MS;
  let left: NatsJetStreamBacklog | undefined;
  let error: unknown;
  for (let wait = DRAIN_POLL_FIRST_MS;; wait = Math.min(wait * 2, DRAIN_POLL_MAX_MS)) {
    try {
      left = await backlog();
      if (left.ackPending === 0 && left.pending === 0) return;
      deadline = started + left.ackWaitMs + DRAIN_MARGIN_MS;
    } catch (e) {
      error = e;
    }
    const now = Date.now();
    if (now >= deadline || stopped()) break;
    await new Promise((r) => setTimeout(r, Math.min(wait, deadline - now)));
    if (stopped()) break;
  }
  const waitedMs = Date.now() - started;
  if (left === undefined) {
    log.warn("the servers never said what this group's JetStream consumer has left", {
      group,
      waitedMs,
      error,
    });
    return;
  }
  const n = left.ackPending + left.pending;
  log.warn(
    `this group's JetStream consumer stops with ${n} messages unacknowledged or not handed ` +
      "out; its next run gets them (and handles again any it handled already)",
    { group, ackPending: left.ackPending, pending: left.pending, waitedMs },
  );
}
