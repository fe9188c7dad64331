/**
 * SIGINT/SIGTERM handling for the CLI: the first signal starts a graceful
 * drain, a second one forces the exit. A supervised child can also treat
 * the end of its stdin (the supervisor's lifeline) as a request to drain.
 *
 * @module
 */

/** A signal that asks the process to shut down. */
export type ShutdownSignal = "SIGINT" | "SIGTERM" | "SIGBREAK";

/**
 * Why a shutdown started: a signal, or `"lifeline"` when stdin ended because
 * the supervisor that held it is gone (see {@linkcode ShutdownSignalsOptions.lifeline}).
 */
export type ShutdownReason = ShutdownSignal | "lifeline";

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
  /**
   * Also start the drain when this stream ends (`true`: this process's
   * stdin). A {@linkcode Supervisor} holds each child's stdin open without
   * writing to it, so it ends exactly when the supervisor exits, even by
   * SIGKILL: a child watching it drains instead of outliving its
   * supervisor. Data read from the stream is discarded. Turn it on only in
   * supervised children: a terminal's stdin ends on Ctrl-D and `/dev/null`
   * at once. An end after a signal is ignored (it never forces). Default: off.
   */
  lifeline?: boolean | ReadableStream<Uint8Array>;
}

/** The registration returned by {@linkcode onShutdownSignals}; dispose it to stop listening. */
export interface ShutdownSignals extends Disposable {
  /** Aborted when the shutdown starts: pass it to whatever should drain (e.g. a `Supervisor`). */
  readonly signal: AbortSignal;
  /** What started the shutdown, if it has started. */
  readonly received: ShutdownReason | undefined;
}

/**
 * Listens for SIGINT and SIGTERM. The first one aborts the returned
 * `signal` and calls `handler`: start a graceful drain there (or let the
 * abort signal start it) and exit when it is done. A second one calls
 * `options.onForce`, by default exiting at once with 128 + the signal's
 * number: the escape hatch when the drain hangs. Disposing the registration
 * removes the listeners and stops watching the lifeline.
 *
 * @example
 * ```ts ignore
 * import { onShutdownSignals, selfCommand, Supervisor } from "../../mod.ts";
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
  handler?: (reason: ShutdownReason) => void,
  options: ShutdownSignalsOptions = {},
): ShutdownSignals {
  const signals = options.signals ??
    (Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"]);
  const onForce = options.onForce ?? ((s: ShutdownSignal) => Deno.exit(128 + SIGNAL_NUMBERS[s]));
  const controller = new AbortController();
  let received: ShutdownReason | undefined;
  let disposed = false;
  const start = (reason: ShutdownReason) => {
    received = reason;
    controller.abort(new DOMException(`shutdown: ${reason}`, "AbortError"));
    handler?.(reason);
  };
  const listeners = signals.map((name) => {
    const listener = () => {
      if (received === undefined) start(name);
      else onForce(name);
    };
    Deno.addSignalListener(name, listener);
    return { name, listener };
  });
  const lifeline = options.lifeline === true
    ? Deno.stdin.readable.getReader()
    : options.lifeline
    ? options.lifeline.getReader()
    : undefined;
  if (lifeline !== undefined) {
    // Never rejects: a read error ends the lifeline like its end does.
    void drainToEnd(lifeline).then(() => {
      if (!disposed && received === undefined) start("lifeline");
    });
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      for (const { name, listener } of listeners) Deno.removeSignalListener(name, listener);
      void lifeline?.cancel().catch(() => {});
    },
  };
}

async function drainToEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // Discard: the lifeline carries no data, only its end.
    }
  } catch {
    // Cancelled or broken: treated as the end.
  }
}
