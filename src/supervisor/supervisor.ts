/**
 * Runs named child processes (one per process group), restarts the ones
 * that crash with exponential backoff, and stops them all gracefully.
 *
 * @module
 */
import { pumpLines } from "./_line_pump.ts";
import { SupervisorError } from "./supervisor_error.ts";
import type { SupervisorEvent } from "./supervisor_event.ts";
import { LastWords } from "./_last_words.ts";

/** One child to supervise: a name (e.g. the process group) and the command that runs it. */
export interface SupervisedChild {
  /** Unique among the children; prefixes the child's output lines and names it in events. */
  readonly name: string;
  /** The executable, e.g. `selfCommand(...).command`. */
  readonly command: string;
  /** Its arguments. Default: none. */
  readonly args?: readonly string[];
  /** Environment variables added to this process's own. Default: none added. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. Default: this process's. */
  readonly cwd?: string;
}

/**
 * When and how often a crashed child is started again. A crash is an exit
 * with a non-zero code or by a signal the supervisor did not send.
 *
 * The n-th restart within the window waits
 * `min(maxDelayMs, initialDelayMs × factor^(n-1) × (1 + jitter × r))` ms, r
 * uniform in [0, 1): the jitter only lengthens a delay, so with
 * `1 + jitter ≤ factor` successive delays always grow until the cap. Once
 * `maxRestarts` restarts happened within the last `windowMs`, the next crash
 * makes the supervisor give up on the child and fail. Restarts older than the
 * window are forgotten, which also brings the delay back down.
 */
export interface ProcessRestartPolicy {
  /** Delay before the first restart, in ms. Default: 250. */
  initialDelayMs?: number;
  /** Longest delay, in ms. Default: 15 000 (or `initialDelayMs`, if that is longer). */
  maxDelayMs?: number;
  /** Growth of the delay per restart. Default: 2. */
  factor?: number;
  /** Random lengthening, as a fraction of the delay, in [0, 1]. Default: 0.2. */
  jitter?: number;
  /** Most restarts allowed within `windowMs`. Default: 5. */
  maxRestarts?: number;
  /** The window restarts are counted in, in ms. Default: 60 000. */
  windowMs?: number;
  /**
   * Exit codes that mean "restarting will not help" (e.g. the CLI's usage
   * and configuration error codes): a child exiting with one fails the
   * supervisor at once. Default: none.
   */
  fatalExitCodes?: readonly number[];
}

/** One line a piped child wrote. */
export interface ChildOutputLine {
  /** The child's name. */
  readonly child: string;
  /** Which of its streams. */
  readonly stream: "stdout" | "stderr";
  /** The line, without its line ending. */
  readonly text: string;
  /** The line as printed by default: `name | text`, names padded to the longest child name. */
  readonly prefixed: string;
}

/** Options of {@linkcode Supervisor.close}. */
export interface SupervisorCloseOptions {
  /**
   * How long children may take to exit after SIGTERM before they get
   * SIGKILL, in ms. Default: the supervisor's `closeDeadlineMs`.
   */
  deadlineMs?: number;
}

/** Options of {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /**
   * What happens to the children's stdout and stderr: `"piped"` reads them
   * line by line into {@linkcode SupervisorOptions.onOutput}; `"inherit"`
   * lets them write to this process's own streams directly (unprefixed);
   * `"null"` discards them. Default: `"piped"`.
   */
  output?: "piped" | "inherit" | "null";
  /**
   * Receives each line of piped output. Default: writes `line.prefixed` to
   * this process's stdout or stderr, as the child did. A callback that throws
   * loses that line only.
   */
  onOutput?: (line: ChildOutputLine) => void;
  /** Receives every {@linkcode SupervisorEvent}. A callback that throws is ignored. Default: none. */
  onEvent?: (event: SupervisorEvent) => void;
  /** Restart backoff and limit (see {@linkcode ProcessRestartPolicy} for defaults). */
  restart?: ProcessRestartPolicy;
  /** Default deadline of {@linkcode Supervisor.close}, in ms. Default: 10 000. */
  closeDeadlineMs?: number;
  /**
   * Start each child in its own session and process group (Unix `setsid`).
   * Then a terminal's Ctrl-C reaches only the supervisor, which stops every
   * child exactly once with SIGTERM; without it, each child would receive the
   * terminal's SIGINT as well as the supervisor's SIGTERM, and a child that
   * treats a second signal as "force" would skip its drain. When a detached
   * child ends (or is SIGKILLed), its whole process group gets SIGKILL, so
   * nothing it started outlives it. The price: a SIGKILLed supervisor cannot
   * take its children down with it; they learn of it through the
   * {@linkcode SupervisorOptions.lifeline}. Ignored on Windows. Default: `true`.
   */
  detached?: boolean;
  /**
   * Give each child a stdin pipe that the supervisor holds open and never
   * writes to: it ends exactly when the supervisor exits, however it exits
   * (even by SIGKILL), so a child watching it (`onShutdownSignals(h, {
   * lifeline: true })`) drains instead of outliving its supervisor. It is
   * closed once the child has exited. `false`: stdin is `/dev/null`. A child
   * that reads its stdin for input waits forever on the lifeline, so turn it
   * off for such commands. Default: `true`.
   */
  lifeline?: boolean;
  /** Longest output line passed on in one piece, in characters; longer ones are cut. Default: 65 536. */
  maxLineLength?: number;
  /** Aborting it closes the supervisor with the default deadline. */
  signal?: AbortSignal;
}

/** How one child ended up. */
export interface ChildSummary {
  /** The child's name. */
  readonly name: string;
  /** How many times it was started. */
  readonly runs: number;
  /** How many of those starts were restarts after a crash. */
  readonly restarts: number;
  /** Its last exit code, or `undefined` if it never ran. */
  readonly lastCode: number | undefined;
  /** The signal that ended its last run, `null` if none, `undefined` if it never ran. */
  readonly lastSignal: Deno.Signal | null | undefined;
}

/**
 * How supervision ended without failing: `"completed"` when every child
 * exited 0 on its own (nothing left to supervise), `"closed"` when
 * {@linkcode Supervisor.close} (or the abort signal) stopped it.
 */
export interface SupervisorOutcome {
  /** Why it ended. */
  readonly reason: "completed" | "closed";
  /** One entry per child, in the order given. */
  readonly children: readonly ChildSummary[];
}

interface Slot {
  readonly spec: SupervisedChild;
  process: Deno.ChildProcess | undefined;
  runs: number;
  restarts: number;
  /** `performance.now()` of the restarts still inside the window (at most maxRestarts). */
  window: number[];
  lastCode: number | undefined;
  lastSignal: Deno.Signal | null | undefined;
  /** What the current (or last) run wrote last to stderr, when piped: see {@linkcode LastWords}. */
  lastWords: LastWords;
}

/** Longest last-output line quoted in a give-up message, in characters. */
const QUOTED_OUTPUT_MAX = 500;

type Finish =
  | { readonly ok: true; readonly outcome: SupervisorOutcome }
  | { readonly ok: false; readonly error: SupervisorError };

const IS_WINDOWS = Deno.build.os === "windows";
const encoder = new TextEncoder();

/**
 * Supervises named child processes: starts them all at once, restarts each
 * one that crashes (exponential backoff with jitter, at most
 * `maxRestarts` within a window), and stops them with SIGTERM then SIGKILL
 * on {@linkcode Supervisor.close}.
 *
 * - A child that exits 0 on its own has **completed**: it is not restarted.
 *   When every child has completed, {@linkcode Supervisor.done} resolves with
 *   reason `"completed"`.
 * - A child over its restart limit, one exiting with a
 *   {@linkcode ProcessRestartPolicy.fatalExitCodes | fatal exit code}, or one that
 *   cannot be spawned, **fails**
 *   the supervisor: the other children are stopped as by `close()` and
 *   `done()` rejects with a {@linkcode SupervisorError}
 *   (`SUPERVISOR_CHILD_FAILED` or `SUPERVISOR_SPAWN`).
 * - After `close()`, `done()` resolves with reason `"closed"` once every
 *   child has exited.
 *
 * The children start right after construction (on the next microtask), so a
 * `close()` in the same tick starts none.
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * const lines: string[] = [];
 * await using supervisor = new Supervisor([
 *   { name: "hello", command: Deno.execPath(), args: ["eval", "console.log('hi')"] },
 * ], { onOutput: (line) => lines.push(line.prefixed) });
 * const outcome = await supervisor.done();
 * if (outcome.reason !== "completed" || lines[0] !== "hello | hi") throw new Error(lines.join());
 * ```
 */
export class Supervisor implements AsyncDisposable {
  readonly #slots: Slot[];
  readonly #output: "piped" | "inherit" | "null";
  readonly #onOutput: (line: ChildOutputLine) => void;
  readonly #onEvent: ((event: SupervisorEvent) => void) | undefined;
  readonly #policy: Required<ProcessRestartPolicy>;
  readonly #closeDeadlineMs: number;
  readonly #detached: boolean;
  readonly #lifeline: boolean;
  readonly #maxLineLength: number;
  readonly #nameWidth: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => void this.#beginClose(this.#closeDeadlineMs);
  readonly #wake = new AbortController();
  readonly #finished: Promise<Finish>;
  #closing = false;
  #isFinished = false;
  #closed: Promise<void> | undefined;
  #killAt = Infinity;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #failure: SupervisorError | undefined;

  /**
   * Starts supervising `children`.
   *
   * @throws {SupervisorError} `SUPERVISOR_INVALID_CHILD` for no child, an
   * empty or repeated name or an empty command; `SUPERVISOR_INVALID_OPTIONS`
   * for an option out of range. Nothing is started then.
   */
  constructor(children: readonly SupervisedChild[], options: SupervisorOptions = {}) {
    checkChildren(children);
    const initialDelayMs = options.restart?.initialDelayMs ?? 250;
    this.#policy = {
      initialDelayMs,
      maxDelayMs: options.restart?.maxDelayMs ?? Math.max(15_000, initialDelayMs),
      factor: options.restart?.factor ?? 2,
      jitter: options.restart?.jitter ?? 0.2,
      maxRestarts: options.restart?.maxRestarts ?? 5,
      windowMs: options.restart?.windowMs ?? 60_000,
      fatalExitCodes: options.restart?.fatalExitCodes ?? [],
    };
    this.#closeDeadlineMs = options.closeDeadlineMs ?? 10_000;
    this.#maxLineLength = options.maxLineLength ?? 65_536;
    checkOptions(this.#policy, this.#closeDeadlineMs, this.#maxLineLength);
    this.#output = options.output ?? "piped";
    this.#onOutput = options.onOutput ?? writeToOwnStreams;
    this.#onEvent = options.onEvent;
    this.#detached = (options.detached ?? true) && !IS_WINDOWS;
    this.#lifeline = options.lifeline ?? true;
    this.#nameWidth = Math.max(...children.map((c) => c.name.length));
    this.#slots = children.map((spec) => ({
      spec,
      process: undefined,
      runs: 0,
      restarts: 0,
      window: [],
      lastCode: undefined,
      lastSignal: undefined,
      lastWords: new LastWords(),
    }));
    this.#signal = options.signal;
    // An already-aborted signal means: start nothing, finish as closed.
    if (this.#signal?.aborted) this.#closing = true;
    else this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    // The loops start on the next microtask, once every field is set: a spawn
    // failure may already need #finished.
    this.#finished = Promise.resolve()
      .then(() => Promise.all(this.#slots.map((slot) => this.#guarded(slot))))
      .then(() => this.#finish());
  }

  /** The names of the children, in the order given. */
  get children(): readonly string[] {
    return this.#slots.map((s) => s.spec.name);
  }

  /** The process id of each child currently running, by name. */
  pids(): ReadonlyMap<string, number> {
    const pids = new Map<string, number>();
    for (const slot of this.#slots) {
      if (slot.process !== undefined) pids.set(slot.spec.name, slot.process.pid);
    }
    return pids;
  }

  /**
   * Resolves when supervision is over: every child completed (reason
   * `"completed"`) or the supervisor was closed and every child has exited
   * (reason `"closed"`). Rejects with a {@linkcode SupervisorError} when a
   * child failed for good; the other children have been stopped by then.
   */
  async done(): Promise<SupervisorOutcome> {
    const finish = await this.#finished;
    if (!finish.ok) throw finish.error;
    return finish.outcome;
  }

  /**
   * Stops every child: SIGTERM now, SIGKILL to those still running after
   * the deadline, and no more restarts. Resolves once every child has
   * exited; never rejects (a failure is reported by {@linkcode done}).
   * Idempotent: later calls return the same promise, and a later call with
   * a shorter deadline brings the SIGKILL forward (`deadlineMs: 0` kills
   * now).
   */
  close(options: SupervisorCloseOptions = {}): Promise<void> {
    const deadlineMs = options.deadlineMs ?? this.#closeDeadlineMs;
    if (!(deadlineMs >= 0)) {
      throw new SupervisorError(
        "SUPERVISOR_INVALID_OPTIONS",
        `close deadlineMs must be 0 or more, got ${deadlineMs}`,
      );
    }
    return this.#beginClose(deadlineMs);
  }

  /**
   * SIGKILLs every child now and restarts none: `close({ deadlineMs: 0 })`
   * for a forced exit, where nothing can be awaited.
   */
  kill(): void {
    void this.#beginClose(0);
  }

  /** Same as {@linkcode close} with the default deadline. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #beginClose(deadlineMs: number): Promise<void> {
    if (this.#closed === undefined) {
      this.#closing = true;
      this.#wake.abort();
      this.#closed = this.#finished.then(() => {});
      for (const slot of this.#slots) this.#stop(slot, "SIGTERM");
    }
    const killAt = performance.now() + deadlineMs;
    if (!this.#isFinished && killAt < this.#killAt) {
      this.#killAt = killAt;
      clearTimeout(this.#killTimer);
      if (deadlineMs === 0) this.#killAll();
      else this.#killTimer = setTimeout(() => this.#killAll(), deadlineMs);
    }
    return this.#closed;
  }

  #killAll(): void {
    this.#killTimer = undefined;
    for (const slot of this.#slots) this.#stop(slot, "SIGKILL");
  }

  #stop(slot: Slot, signal: "SIGTERM" | "SIGKILL"): void {
    const child = slot.process;
    if (child === undefined) return;
    this.#emit({ type: "stopping", child: slot.spec.name, pid: child.pid, signal });
    try {
      // SIGKILL takes the child's whole group, so nothing it started survives it.
      if (signal === "SIGKILL" && this.#detached) Deno.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // It has just exited; its status is on its way to #supervise.
    }
  }

  async #guarded(slot: Slot): Promise<void> {
    try {
      await this.#supervise(slot);
    } catch (cause) {
      this.#giveUp(
        slot,
        new SupervisorError(
          "SUPERVISOR_CHILD_FAILED",
          `supervising '${slot.spec.name}' failed unexpectedly`,
          { cause, child: slot.spec.name },
        ),
      );
    }
  }

  async #supervise(slot: Slot): Promise<void> {
    const name = slot.spec.name;
    while (!this.#closing) {
      let child: Deno.ChildProcess;
      try {
        child = this.#spawn(slot.spec);
      } catch (cause) {
        this.#giveUp(
          slot,
          new SupervisorError(
            "SUPERVISOR_SPAWN",
            `cannot start '${name}' (${slot.spec.command}): ${
              cause instanceof Error ? cause.message : String(cause)
            }`,
            { cause, child: name },
          ),
        );
        return;
      }
      slot.process = child;
      slot.runs++;
      slot.lastWords = new LastWords();
      const startedAt = performance.now();
      this.#emit({ type: "started", child: name, pid: child.pid, run: slot.runs });
      const pumps = this.#output === "piped"
        ? [this.#pump(slot, "stdout", child.stdout), this.#pump(slot, "stderr", child.stderr)]
        : [];
      const status = await child.status;
      slot.process = undefined;
      if (this.#detached) {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          // The usual case: the group ended with its leader.
        }
      }
      await Promise.all(pumps);
      if (this.#lifeline) await closeQuietly(child.stdin);
      slot.lastCode = status.code;
      slot.lastSignal = status.signal;
      const requested = this.#closing;
      this.#emit({
        type: "exited",
        child: name,
        pid: child.pid,
        code: status.code,
        signal: status.signal,
        uptimeMs: performance.now() - startedAt,
        requested,
      });
      if (requested) return;
      if (status.success) {
        this.#emit({ type: "completed", child: name });
        return;
      }
      const now = performance.now();
      slot.window = slot.window.filter((t) => now - t < this.#policy.windowMs);
      const fatal = status.signal === null && this.#policy.fatalExitCodes.includes(status.code);
      if (fatal || slot.window.length >= this.#policy.maxRestarts) {
        const how = status.signal === null ? `exit code ${status.code}` : `signal ${status.signal}`;
        const why = fatal
          ? `exited with ${how}, which restarting cannot fix`
          : `crashed (${how}) after ${slot.window.length} restarts within ${this.#policy.windowMs} ms`;
        // The child's own last words usually say why (an address in use, say): the final
        // message carries them, so the cause is not only far up in the output.
        const last = slot.lastWords.line;
        const quoted = last === undefined ? "" : `; its last output: ${quote(last)}`;
        this.#giveUp(
          slot,
          new SupervisorError("SUPERVISOR_CHILD_FAILED", `'${name}' ${why}; giving up${quoted}`, {
            child: name,
            exitCode: status.signal === null ? status.code : null,
            exitSignal: status.signal,
            restarts: slot.window.length,
            ...(last === undefined ? {} : { lastOutput: last }),
          }),
        );
        return;
      }
      slot.window.push(now);
      slot.restarts++;
      const delayMs = this.#delay(slot.window.length);
      this.#emit({
        type: "restarting",
        child: name,
        delayMs,
        restart: slot.window.length,
        maxRestarts: this.#policy.maxRestarts,
      });
      await sleep(delayMs, this.#wake.signal);
    }
  }

  #spawn(spec: SupervisedChild): Deno.ChildProcess {
    const options: Deno.CommandOptions = {
      args: [...(spec.args ?? [])],
      stdin: this.#lifeline ? "piped" : "null",
      stdout: this.#output,
      stderr: this.#output,
      detached: this.#detached,
    };
    if (spec.env !== undefined) options.env = { ...spec.env };
    if (spec.cwd !== undefined) options.cwd = spec.cwd;
    return new Deno.Command(spec.command, options).spawn();
  }

  async #pump(
    slot: Slot,
    stream: "stdout" | "stderr",
    readable: ReadableStream<Uint8Array>,
  ): Promise<void> {
    const child = slot.spec.name;
    const prefix = `${child.padEnd(this.#nameWidth)} | `;
    try {
      await pumpLines(readable, this.#maxLineLength, (text) => {
        if (stream === "stderr") slot.lastWords.add(text);
        try {
          this.#onOutput({ child, stream, text, prefixed: prefix + text });
        } catch {
          // A failing output callback loses this line, not the child's stream.
        }
      });
    } catch {
      // A read error ends this stream; the child's exit is still awaited.
    }
  }

  #delay(restart: number): number {
    const p = this.#policy;
    const grown = p.initialDelayMs * p.factor ** (restart - 1) * (1 + p.jitter * Math.random());
    return Math.round(Math.min(p.maxDelayMs, grown));
  }

  #giveUp(slot: Slot, error: SupervisorError): void {
    this.#failure ??= error;
    this.#emit({ type: "gave-up", child: slot.spec.name, error });
    void this.#beginClose(this.#closeDeadlineMs);
  }

  #finish(): Finish {
    this.#isFinished = true;
    clearTimeout(this.#killTimer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const failure = this.#failure;
    const reason = failure !== undefined ? "failed" : this.#closing ? "closed" : "completed";
    this.#emit({ type: "finished", reason });
    if (failure !== undefined) return { ok: false, error: failure };
    return {
      ok: true,
      outcome: {
        reason: reason === "completed" ? "completed" : "closed",
        children: this.#slots.map((s) => ({
          name: s.spec.name,
          runs: s.runs,
          restarts: s.restarts,
          lastCode: s.lastCode,
          lastSignal: s.lastSignal,
        })),
      },
    };
  }

  #emit(event: SupervisorEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // An observer's failure must not stop supervision.
    }
  }
}

/** A child's output line as quoted in a message: trimmed, cut if long. */
function quote(line: string): string {
  const text = line.trim();
  return text.length <= QUOTED_OUTPUT_MAX ? text : `${text.slice(0, QUOTED_OUTPUT_MAX)}…`;
}

function sleep(ms: number, wake: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (wake.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      wake.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wake.addEventListener("abort", done, { once: true });
  });
}

async function closeQuietly(stream: WritableStream<Uint8Array>): Promise<void> {
  try {
    await stream.close();
  } catch {
    // The child has exited: its end of the pipe is gone, which is all we wanted.
  }
}

function writeToOwnStreams(line: ChildOutputLine): void {
  const target = line.stream === "stdout" ? Deno.stdout : Deno.stderr;
  const bytes = encoder.encode(line.prefixed + "\n");
  for (let written = 0; written < bytes.length;) {
    written += target.writeSync(bytes.subarray(written));
  }
}

function checkChildren(children: readonly SupervisedChild[]): void {
  const invalid = (message: string, child?: string) =>
    new SupervisorError(
      "SUPERVISOR_INVALID_CHILD",
      message,
      child === undefined ? {} : { child },
    );
  if (children.length === 0) throw invalid("no child to supervise: give at least one");
  const seen = new Set<string>();
  for (const child of children) {
    if (child.name.trim() === "") throw invalid("a child has an empty name: name each child");
    if (seen.has(child.name)) {
      throw invalid(`two children are named '${child.name}': names must be unique`, child.name);
    }
    seen.add(child.name);
    if (child.command === "") {
      throw invalid(`child '${child.name}' has an empty command`, child.name);
    }
  }
}

function checkOptions(
  policy: Required<ProcessRestartPolicy>,
  closeDeadlineMs: number,
  maxLineLength: number,
): void {
  const problems: string[] = [];
  const atLeast = (name: string, value: number, min: number) => {
    if (!(value >= min) || !Number.isFinite(value)) {
      problems.push(`${name} must be a finite number ≥ ${min}, got ${value}`);
    }
  };
  atLeast("restart.initialDelayMs", policy.initialDelayMs, 0);
  atLeast("restart.maxDelayMs", policy.maxDelayMs, policy.initialDelayMs);
  atLeast("restart.factor", policy.factor, 1);
  atLeast("restart.jitter", policy.jitter, 0);
  if (policy.jitter > 1) problems.push(`restart.jitter must be at most 1, got ${policy.jitter}`);
  atLeast("restart.maxRestarts", policy.maxRestarts, 0);
  if (!Number.isInteger(policy.maxRestarts)) {
    problems.push(`restart.maxRestarts must be a whole number, got ${policy.maxRestarts}`);
  }
  atLeast("restart.windowMs", policy.windowMs, 1);
  atLeast("closeDeadlineMs", closeDeadlineMs, 0);
  atLeast("maxLineLength", maxLineLength, 1);
  if (problems.length > 0) {
    throw new SupervisorError("SUPERVISOR_INVALID_OPTIONS", problems.join("; "));
  }
}
