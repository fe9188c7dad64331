/**
 * What a full bounded buffer (an actor's mailbox, a link's outbound buffer)
 * does with one more message. The same four policies everywhere, so one
 * setting means the same thing on every hop.
 *
 * @module
 */

/**
 * - `wait` (default): the sender waits (its `send` returns a promise) until
 *   there is room; waiting senders keep their order, so FIFO per sender holds;
 * - `drop-newest`: the new message is discarded and counted;
 * - `drop-oldest`: the oldest message not yet handed on is discarded and counted;
 * - `error`: `send` throws a typed error carrying the message.
 */
export type OverflowPolicy = "wait" | "drop-newest" | "drop-oldest" | "error";
