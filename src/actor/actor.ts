/**
 * Actors: behaviour and lifecycle only. Spawning, mailboxes, names and
 * delivery live in the runtime (`MessageBus`, `MonolithBus`), so one actor
 * object runs unchanged on either.
 *
 * @module
 */
import type { Fields, Infer, MessageType } from "../codec/mod.ts";
import type { Context } from "./context.ts";

/**
 * What a handler may return: nothing (it finished) or a promise (the actor
 * handles nothing else until it settles).
 */
export type HandlerResult = void | Promise<void>;

/**
 * A handler for one message type. Build it with {@linkcode on}, which infers
 * the message type so the function receives exactly `Readonly<V2Swap>` for
 * `V2Swap`.
 *
 * The runtime calls `handle` without a `this`: pass an arrow function (or a
 * bound method). The message is shared by reference with every other local
 * subscriber, hence readonly; a handler that wants to keep a changed copy
 * copies it first.
 */
export interface Handler<F extends Fields = Fields> {
  /** The message type this handler receives. */
  readonly type: MessageType<F>;
  /** Handles one message. Declared as a method so handlers of any type fit `Handler[]`. */
  handle(message: Readonly<Infer<F>>, ctx: Context): HandlerResult;
}

/**
 * Declares the handler of one message type.
 *
 * @example
 * ```ts
 * import { on } from "./actor.ts";
 * import { defineMessage, field } from "../codec/mod.ts";
 *
 * const Trade = defineMessage({ id: 1, name: "Trade", fields: { price: field.f64(), ts: field.u64() } });
 * let last = 0n;
 * const h = on(Trade, (trade) => {
 *   last = trade.ts; // trade: Readonly<{ price: number; ts: bigint }>
 * });
 * if (h.type !== Trade) throw new Error("unreachable");
 * ```
 */
export function on<F extends Fields>(
  type: MessageType<F>,
  handle: (message: Readonly<Infer<NoInfer<F>>>, ctx: Context) => HandlerResult,
): Handler<F> {
  return { type, handle };
}

/**
 * An actor: a list of handlers (what it consumes, one handler per message
 * type) and optional lifecycle hooks. State lives in the object itself.
 *
 * Keep `handlers` un-annotated (let TypeScript infer the element union) so a
 * `MonolithBus` route can check at compile time that the actor handles the
 * routed type.
 *
 * @example
 * ```ts
 * import { type Actor, on } from "./actor.ts";
 * import { defineMessage, field } from "../codec/mod.ts";
 *
 * const Trade = defineMessage({ id: 1, name: "Trade", fields: { price: field.f64() } });
 * class TradeCounter implements Actor {
 *   count = 0;
 *   readonly handlers = [on(Trade, () => void this.count++)];
 * }
 * const counter = new TradeCounter();
 * if (counter.handlers[0]?.type !== Trade) throw new Error("unreachable");
 * ```
 */
export interface Actor {
  /** One handler per consumed message type. */
  readonly handlers: readonly Handler[];
  /** Called once before the first message (and again after each restart). */
  start?(ctx: Context): HandlerResult;
  /** Called once when the actor stops (shutdown, stop policy, restart). */
  stop?(ctx: Context): HandlerResult;
}

/**
 * How the runtime gets an actor: the object itself, or a factory that the
 * runtime calls again on restart to start from fresh state.
 */
export type ActorSource = Actor | (() => Actor);

/** The message types an actor consumes, in the order of its handlers. */
export function consumedTypes(actor: Actor): MessageType[] {
  return actor.handlers.map((h) => h.type);
}
