/**
 * Sampled delivery timing: what a hop costs, apart from queueing.
 *
 * @module
 */
import { LatencyRecorder } from "./latency_recorder.ts";

/** Options of {@linkcode DeliveryTiming}. */
export interface DeliveryTimingOptions {
  /** Time one delivery in this many (1: every one). Default: 8. */
  sampleEvery?: number;
}

/**
 * Where a mailbox's timed deliveries go, split by what they met on arrival:
 *
 * - `hop`: the mailbox was empty and its actor idle (nothing queued ahead),
 *   so the time from send to the start of its handler is what the hop
 *   itself costs: scheduling, and encoding, the link and decoding when the
 *   sender is in another process.
 * - `queued`: something was ahead of it (earlier deliveries, or a handler
 *   still running), so the same interval also holds time spent waiting
 *   behind them: what load costs, not the transport.
 *
 * Only the first delivery and then one in `sampleEvery` are timed, with two
 * clock reads each (at send and at handler start); the others cost none.
 * Percentiles are over the sampled deliveries: with the default, one in
 * eight, taken by position, not by value, so a rare slow delivery may be
 * missed and a percentile over few samples is rough (the report shows how
 * many). A sender's time waiting for room in a full mailbox is not counted.
 *
 * @example
 * ```ts
 * import { DeliveryTiming } from "./delivery_timing.ts";
 * const timing = new DeliveryTiming({ sampleEvery: 1 });
 * timing.hop.record(850);
 * if (timing.hop.count !== 1 || timing.queued.count !== 0) throw new Error("unreachable");
 * ```
 */
export class DeliveryTiming {
  /** Send to handler start of sampled deliveries that found nothing queued ahead, in ns. */
  readonly hop: LatencyRecorder = new LatencyRecorder();
  /** Send to handler start of sampled deliveries that waited behind others, in ns. */
  readonly queued: LatencyRecorder = new LatencyRecorder();
  /** One delivery in this many is timed. */
  readonly sampleEvery: number;

  /** Creates empty recorders. */
  constructor(options: DeliveryTimingOptions = {}) {
    const every = options.sampleEvery ?? 8;
    if (!Number.isInteger(every) || every < 1) {
      throw new RangeError(`sampleEvery must be a positive integer, got ${every}`);
    }
    this.sampleEvery = every;
  }

  /** Sampled deliveries, both kinds. */
  get count(): number {
    return this.hop.count + this.queued.count;
  }
}
