/**
 * Runs the key-value service's entry (`examples/kv/main.ts run …`) as a real
 * child process until it announces that every client finished, then stops
 * it with SIGTERM as an operator would.
 */

/** The repository's root directory. */
export const ROOT: string = new URL("../../../", import.meta.url).pathname;

/** The stats actor's announcement, wherever it is printed (a supervisor prefixes its groups' lines). */
const FINISHED_LINE = /kv: every client finished: (.*)$/;

/** Longest wait for the announcement before the test fails. */
const DEADLINE_MS = 120_000;

/** What a run printed, how it exited, and what it announced. */
export interface KvRun {
  /** Exit code after SIGTERM. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The announcement, after `every client finished: `. */
  readonly finished: string;
}

/** Reads a stream to its end, handing each complete line to `onLine`; resolves with all of it. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<string> {
  let text = "";
  let partial = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    lines.forEach(onLine);
  }
  if (partial !== "") onLine(partial);
  return text;
}

/**
 * `deno run <permissions> examples/kv/main.ts run <args>` from the
 * repository root: waits for the line saying every client finished (on
 * stdout or stderr), sends SIGTERM, and collects the rest.
 */
export async function runUntilFinished(
  args: readonly string[],
  permissions: readonly string[],
): Promise<KvRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "examples/kv/main.ts", "run", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const finished = Promise.withResolvers<string>();
  const watch = (line: string) => {
    const m = FINISHED_LINE.exec(line);
    if (m !== null) finished.resolve(m[1]!);
  };
  const stdout = readLines(child.stdout, watch);
  const stderr = readLines(child.stderr, watch);
  const deadline = setTimeout(
    () => finished.reject(new Error(`no announcement within ${DEADLINE_MS} ms`)),
    DEADLINE_MS,
  );
  let first: { line: string } | { exited: number };
  try {
    first = await Promise.race([
      finished.promise.then((line) => ({ line })),
      child.status.then((s) => ({ exited: s.code })),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    await Promise.all([child.status, stdout, stderr]);
    throw error;
  } finally {
    clearTimeout(deadline);
  }
  if ("exited" in first) {
    const [out, err] = await Promise.all([stdout, stderr]);
    throw new Error(`exited with ${first.exited} before every client finished\n${out}\n${err}`);
  }
  child.kill("SIGTERM");
  const [status, out, err] = await Promise.all([child.status, stdout, stderr]);
  return { code: status.code, stdout: out, stderr: err, finished: first.line };
}

export { freePort } from "../../_deno.ts";
