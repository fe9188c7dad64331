/**
 * SIGINT/SIGTERM handling for the CLI: the first signal starts a graceful
 * drain, a second one forces the exit.
 *
 * @module
 */

/** A signal that asks the process to shut down. */
export type ShutdownSignal = "SIGINT" | "SIGTERM" | "SIGBREAK";

const SIGNAL_NUMBERS: Readonly<Record<ShutdownSignal, number>> = {
  SIGINT: 2,
  SIGTERM: 15,
  SIGBREAK: 21,
};

/** Options of {@linkcode onShutdownSignals}. */
export interface ShutdownSignalsOptions {
  /**
   * Called on the second shutdown signal, while the drain the first one
   * started is still running. Default: `Deno.exit(128 + the signal's
   * number)`, the shell's convention (130 for SIGINT, 143 for SIGTERM).
   */
  onForce?: (signal: ShutdownSignal) => void;
  /**
   * The signals to listen to. Default: SIGINT and SIGTERM; on Windows, where
   * Deno cannot listen to SIGTERM, SIGINT and SIGBREAK.
   */
  signals?: readonly ShutdownSignal[];
}

/** The registration returned by {@linkcode onShutdownSignals}; dispose it to stop listening. */
export interface ShutdownSignals extends Disposable {
  /** Aborted by the first shutdown signal: pass it to whatever should drain (e.g. a `Supervisor`). */
  readonly signal: AbortSignal;
  /** The first shutdown signal received, if any. */
  readonly received: ShutdownSignal | undefined;
}

/**
 * Listens for SIGINT and SIGTERM. The first one aborts the returned
 * `signal` and calls `handler`: start a graceful drain there (or let the
 * abort signal start it) and exit when it is done. A second one calls
 * `options.onForce`, by default exiting at once with 128 + the signal's
 * number: the escape hatch when the drain hangs. Disposing the registration
 * removes the listeners.
 *
 * @example
 * ```ts ignore
 * import { onShutdownSignals, Supervisor, selfCommand } from "../../mod.ts";
 * using shutdown = onShutdownSignals(undefined, {
 *   onForce: (signal) => {
 *     supervisor.kill(); // leave no child behind
 *     Deno.exit(signal === "SIGINT" ? 130 : 143);
 *   },
 * });
 * const supervisor = new Supervisor(
 *   [{ name: "execution", ...selfCommand(["run", "prod.yaml", "--group", "execution"]) }],
 *   { signal: shutdown.signal },
 * );
 * await supervisor.done(); // resolves "closed" once every group has drained
 * ```
 */
export function onShutdownSignals(
  handler?: (signal: ShutdownSignal) => void,
  options: ShutdownSignalsOptions = {},
): ShutdownSignals {
  const signals = options.signals ??
    (Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"]);
  const onForce = options.onForce ?? ((s: ShutdownSignal) => Deno.exit(128 + SIGNAL_NUMBERS[s]));
  const controller = new AbortController();
  let received: ShutdownSignal | undefined;
  let disposed = false;
  const listeners = signals.map((name) => {
    const listener = () => {
      if (received === undefined) {
        received = name;
        controller.abort(new DOMException(`received ${name}`, "AbortError"));
        handler?.(name);
      } else {
        onForce(name);
      }
    };
    Deno.addSignalListener(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      for (const { name, listener } of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}
