/**
 * Helpers the end-to-end tests share: run this Deno as a child process, and
 * find a free loopback port.
 */

/** What a child `deno` printed and how it exited. */
export interface DenoRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno ARGS` (this very Deno) in `cwd`, without colours or input, and
 * waits for it; `env` adds to the inherited environment.
 */
export async function deno(
  args: readonly string[],
  cwd: string | URL,
  env: Record<string, string> = {},
): Promise<DenoRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). */
export function freePort(): number {
  return freePorts(1)[0]!;
}

/**
 * `n` distinct TCP ports on 127.0.0.1 that were free a moment ago: all are
 * bound before any is released, so the system cannot hand one out twice.
 */
export function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** Permissions a split run of an app entry needs, writing nowhere but `dir`. */
export function splitRunPermissions(dir: string): string[] {
  return [
    "--allow-read",
    `--allow-write=${dir}`,
    // Unix sockets need net access to their paths too; TCP only reaches loopback here.
    "--allow-net",
    `--allow-run=${Deno.execPath()}`,
    "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM,MYCELIUM_LINK_KEY",
  ];
}

/**
 * Arguments of `deno` for a split run of `entry` over `${dir}/t.yaml` with
 * every host's groups started here, sockets in `${dir}/s`, then `extra`.
 */
export function splitRunArgs(dir: string, entry: string, extra: readonly string[]): string[] {
  return [
    "run",
    ...splitRunPermissions(dir),
    entry,
    "run",
    `${dir}/t.yaml`,
    "--socket-dir",
    `${dir}/s`,
    "--all-hosts",
    ...extra,
  ];
}

/** What to do once during a run, the first time its stderr so far satisfies `when`. */
export interface StderrHook {
  when(stderr: string): boolean;
  then(stderr: string): void | Promise<void>;
}

/** A run followed through its stderr: what it printed, how it ended, whether the hook ran. */
export interface FollowedRun extends DenoRun {
  fired: boolean;
  /** It was still going after `timeoutMs` and was sent SIGTERM. */
  timedOut: boolean;
}

/**
 * Runs `deno ARGS` in `cwd` like {@linkcode deno}, reading its stderr as it
 * comes: the first time `hook.when` holds for the stderr so far,
 * `hook.then` runs (kill a process mid-run, say) while the child goes on.
 * With `timeoutMs`, a run still going then is sent SIGTERM (and fails
 * whatever asserts its exit code, or `timedOut`: a run that drains cleanly
 * on SIGTERM still exits 0).
 */
export async function denoFollowing(
  args: readonly string[],
  cwd: string | URL,
  hook: StderrHook,
  timeoutMs?: number,
): Promise<FollowedRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const guard = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // It ended meanwhile.
    }
  }, timeoutMs);
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  let fired = false;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (!fired && hook.when(stderr)) {
        fired = true;
        try {
          await hook.then(stderr);
        } catch (e) {
          // End the run, and say what it had printed (why the hook found nothing to act on, say).
          child.kill("SIGKILL");
          await Promise.all([child.status, stdout]);
          throw new Error(`the mid-run action failed; stderr so far:\n${stderr}`, { cause: e });
        }
      }
    }
    const status = await child.status;
    return { code: status.code, stdout: await stdout, stderr, fired, timedOut };
  } finally {
    clearTimeout(guard);
  }
}

/** The pid a supervisor logged for `group`'s first run (`GROUP: started (pid N, run 1)`). */
export function firstPid(stderr: string, group: string): number | undefined {
  return Number(new RegExp(`${group}: started \\(pid (\\d+), run 1\\)`).exec(stderr)?.[1]) ||
    undefined;
}
