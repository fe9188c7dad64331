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
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
