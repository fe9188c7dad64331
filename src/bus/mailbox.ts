/**
 * Mailboxes: bounded ring buffers with an overflow policy.
 *
 * @module
 */
import { BusError } from "./bus_error.ts";

import type { OverflowPolicy } from "../overflow_policy.ts";

/** What a full mailbox does with one more message (`error` throws `MailboxFullError`). */
export type { OverflowPolicy } from "../overflow_policy.ts";

/** Options of a mailbox (per actor). */
export interface MailboxOptions {
  /** Messages the mailbox holds. Default: 1024. */
  capacity?: number;
  /** What a full mailbox does. Default: `"wait"`. */
  overflow?: OverflowPolicy;
  /**
   * With `wait`: senders that may wait at once; one more gets
   * `MailboxFullError` (queues stay bounded). Default: `capacity`.
   */
  maxWaiting?: number;
}

/** Default mailbox capacity. */
export const DEFAULT_MAILBOX_CAPACITY = 1024;

/**
 * What {@linkcode Mailbox.push} did: 0 queued, 1 full (nothing queued, the
 * caller applies the policy), 2 queued after dropping the oldest (in `out*`).
 * @internal
 */
export type PushResult = 0 | 1 | 2;
/** @internal */
export const QUEUED = 0;
/** @internal */
export const FULL = 1;
/** @internal */
export const QUEUED_DROPPED_OLDEST = 2;

/**
 * A bounded FIFO of deliveries `(key, message, meta)` in a ring sized to a
 * power of two. Key and message sit side by side in one array (`slots[2i]`,
 * `slots[2i + 1]`), so a delivery costs one cache line, not two; metas (rare:
 * requests only) live apart and are read only while some are queued
 * (`metaCount`). Its fields are open to the cell that owns it so the drain
 * loop reads the ring directly (no per-message call or temporary). `take`
 * writes to `outKey`/`outMessage`/`outMeta` for the slow paths. Policies
 * other than drop-oldest are applied by the caller, which knows about
 * waiting senders.
 * @internal
 */
export class Mailbox<K, E> {
  /** Capacity as configured. */
  readonly capacity: number;
  /** Policy as configured. */
  readonly overflow: OverflowPolicy;
  /** Waiting senders allowed. */
  readonly maxWaiting: number;
  /** Ring length minus one. */
  readonly mask: number;
  /**
   * Keys and messages of the queued deliveries: delivery `i` at `2i` and
   * `2i + 1`; or, when every delivery has the same key ({@linkcode only}),
   * its message alone at `i`.
   */
  readonly slots: unknown[];
  /** The key of every delivery, when the owner has only one. */
  readonly only: K | undefined;
  /** Metas of the queued deliveries. */
  readonly metas: (E | undefined)[];
  /** Queued deliveries that carry a meta. */
  metaCount = 0;
  /**
   * When timed: `performance.now()` at which a sampled delivery was queued,
   * negated when others were ahead of it; 0 for deliveries not sampled. The
   * owner writes and clears them.
   */
  readonly stamps: Float64Array | undefined;
  /** Index of the oldest delivery. */
  head = 0;
  /** Deliveries queued. */
  size = 0;
  /** Key of the last taken (or dropped) delivery. */
  outKey: K | undefined = undefined;
  /** Message of the last taken (or dropped) delivery. */
  outMessage: unknown = undefined;
  /** Meta of the last taken (or dropped) delivery. */
  outMeta: E | undefined = undefined;

  constructor(options: MailboxOptions = {}, timed = false, only?: K) {
    const capacity = options.capacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new BusError(
        "BUS_INVALID_OPTION",
        `mailbox capacity must be an integer from 1 to ${1 << 24}, got ${capacity}`,
      );
    }
    const overflow = options.overflow ?? "wait";
    if (!["wait", "drop-newest", "drop-oldest", "error"].includes(overflow)) {
      throw new BusError(
        "BUS_INVALID_OPTION",
        `mailbox overflow must be wait, drop-newest, drop-oldest or error, got '${overflow}'`,
      );
    }
    const maxWaiting = options.maxWaiting ?? capacity;
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) {
      throw new BusError(
        "BUS_INVALID_OPTION",
        `mailbox maxWaiting must be a non-negative integer, got ${maxWaiting}`,
      );
    }
    this.capacity = capacity;
    this.overflow = overflow;
    this.maxWaiting = maxWaiting;
    let size = 1;
    while (size < capacity) size <<= 1;
    this.mask = size - 1;
    this.only = only;
    this.slots = new Array<unknown>(only === undefined ? 2 * size : size).fill(undefined);
    this.metas = new Array<E | undefined>(size).fill(undefined);
    this.stamps = timed ? new Float64Array(size) : undefined;
  }

  /** Whether another delivery fits. */
  get hasRoom(): boolean {
    return this.size < this.capacity;
  }

  /**
   * Queues a delivery. When full: with `drop-oldest` the oldest is taken out
   * (into `out*`) and the new one queued; otherwise nothing is queued.
   */
  push(key: K, message: unknown, meta: E | undefined): PushResult {
    let result: PushResult = QUEUED;
    if (this.size >= this.capacity) {
      if (this.overflow !== "drop-oldest") return FULL;
      this.take();
      result = QUEUED_DROPPED_OLDEST;
    }
    const i = (this.head + this.size) & this.mask;
    if (this.only === undefined) {
      this.slots[2 * i] = key;
      this.slots[2 * i + 1] = message;
    } else {
      this.slots[i] = message;
    }
    // Slots are cleared when taken, so a delivery without meta needs no store.
    if (meta !== undefined) {
      this.metas[i] = meta;
      this.metaCount++;
    }
    this.size++;
    return result;
  }

  /** Takes the oldest delivery into `out*`. The mailbox must not be empty. */
  take(): void {
    const i = this.head;
    if (this.only === undefined) {
      this.outKey = this.slots[2 * i] as K;
      this.outMessage = this.slots[2 * i + 1];
      this.slots[2 * i] = undefined;
      this.slots[2 * i + 1] = undefined;
    } else {
      this.outKey = this.only;
      this.outMessage = this.slots[i];
      this.slots[i] = undefined;
    }
    this.outMeta = this.metas[i];
    if (this.outMeta !== undefined) {
      this.metas[i] = undefined;
      this.metaCount--;
    }
    if (this.stamps !== undefined) this.stamps[i] = 0;
    this.head = (i + 1) & this.mask;
    this.size--;
  }

  /** Clears `out*` so the last message is not kept alive. */
  release(): void {
    this.outKey = undefined;
    this.outMessage = undefined;
    this.outMeta = undefined;
  }
}
