/**
 * Message types and small actors shared by the bus tests.
 *
 * @module
 */
import { defineMessage, field, type MessageOf } from "../../src/codec/mod.ts";
import { on } from "../../src/actor/mod.ts";

/** A numbered message with a note; topic "ticks". */
export const Tick = defineMessage({
  id: 1001,
  name: "Tick",
  topic: "ticks",
  fields: { seq: field.u32(), note: field.string(), big: field.u64() },
});
/** A Tick. */
export type Tick = MessageOf<typeof Tick>;

/** Another type on topic "ticks". */
export const Tock = defineMessage({
  id: 1002,
  name: "Tock",
  topic: "ticks",
  fields: { seq: field.u32() },
});
/** A Tock. */
export type Tock = MessageOf<typeof Tock>;

/** A request. */
export const Ask = defineMessage({ id: 1003, name: "Ask", fields: { n: field.u32() } });
/** An Ask. */
export type Ask = MessageOf<typeof Ask>;

/** A reply. */
export const Answer = defineMessage({ id: 1004, name: "Answer", fields: { n: field.u32() } });
/** An Answer. */
export type Answer = MessageOf<typeof Answer>;

/** A Tick numbered `seq`. */
export function tick(seq: number, note = ""): Tick {
  return { seq, note, big: BigInt(seq) };
}

/** A promise with its resolver, to wait for an event. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  const { promise, resolve } = Promise.withResolvers<T>();
  return { promise, open: resolve };
}

/**
 * An actor that records Tick seqs and, while `hold` is set, parks on its
 * first message until `release()` is called. `entered` resolves when it
 * starts handling a message it parks on.
 */
export class Gated {
  readonly seqs: number[] = [];
  #entered = gate();
  #release = gate();
  hold = true;
  readonly handlers = [
    on(Tick, (m) => {
      this.seqs.push(m.seq);
      if (!this.hold) return;
      this.hold = false;
      this.#entered.open();
      return this.#release.promise;
    }),
  ];
  /** Resolves when the actor parked. */
  get entered(): Promise<void> {
    return this.#entered.promise;
  }
  /** Lets the parked handler finish. */
  release(): void {
    this.#release.open();
  }
}
