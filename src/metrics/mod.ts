/**
 * Metrics: the latency recorder used by applications and the runtime, and the
 * sampled delivery timing the runtime reports per actor.
 *
 * @module
 */
export { LatencyRecorder } from "./latency_recorder.ts";
export type { LatencySummary } from "./latency_recorder.ts";
export { DeliveryTiming } from "./delivery_timing.ts";
export type { DeliveryTimingOptions } from "./delivery_timing.ts";
