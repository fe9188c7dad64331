// deno-lint-ignore-file no-console -- the CLI talks to people on stdout and stderr.
/**
 * The command-line front end of the `mycelium` binary.
 *
 * @module
 */
import { runCodecDemo } from "./codec_demo.ts";

const USAGE = `usage: mycelium <command>

commands:
  demo [--count N] [--seed N]   push a seeded stream of V2Swap frames through the codec and verify it
  help                          show this text`;

/** Runs the CLI with `args` and returns the process exit code. */
export function main(args: readonly string[]): number {
  const [command, ...rest] = args;
  switch (command) {
    case "demo":
      return demo(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`mycelium: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

function intFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} needs a positive integer, got '${args[i + 1] ?? ""}'`);
  }
  return value;
}

function demo(args: readonly string[]): number {
  let count: number;
  let seed: number;
  try {
    count = intFlag(args, "--count", 200_000);
    seed = intFlag(args, "--seed", 42);
  } catch (e) {
    console.error(`mycelium demo: ${(e as Error).message}`);
    return 2;
  }
  const r = runCodecDemo({ count, seed });
  const ok = r.frames === count && r.checksumSent === r.checksumReceived;
  console.log(`mycelium codec demo (seed ${seed})
  swaps encoded        ${count} V2Swap frames, ${r.bytes} bytes (${r.bytes / count} per frame)
  delivered in         ${r.reads} reads of 1 B to 16 KiB, split back into ${r.frames} frames
  wall time            ${r.elapsedMs.toFixed(0)} ms to encode, split, view and checksum every field
                       (a demonstration, not a benchmark: see deno task bench)
  checksum sent        ${r.checksumSent}
  checksum received    ${r.checksumReceived}
  result               ${ok ? "OK: every frame arrived intact and in order" : "MISMATCH"}`);
  return ok ? 0 : 1;
}
