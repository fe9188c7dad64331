import type { ByteListener, ByteStream, Transport } from "./transport.ts";
import { TransportError } from "./transport_error.ts";
import { connectError, DenoByteListener, messageOf } from "./_deno_listener.ts";

/** Options of {@linkcode UnixTransport}. */
export interface UnixTransportOptions {
  /**
   * Path of the socket file. Its directory is created with mode 0700 when
   * missing; an existing directory that group or others can access is refused
   * (`TRANSPORT_INSECURE_PATH`), since anyone who can reach the socket could
   * talk to the process.
   */
  path: string;
}

/**
 * Unix domain sockets between processes on one machine. The socket file gets
 * mode 0600 and lives in a directory of mode 0700. A stale socket file left by
 * a crashed process is replaced; one a live process listens on is refused
 * (`TRANSPORT_ADDRESS_IN_USE`).
 *
 * @example
 * ```ts
 * import { UnixTransport } from "./unix.ts";
 * const dir = await Deno.makeTempDir();
 * const transport = new UnixTransport({ path: `${dir}/risk.sock` });
 * const listener = await transport.listen();
 * const mode = (await Deno.stat(`${dir}/risk.sock`)).mode! & 0o777;
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * if (mode !== 0o600) throw new Error("socket must be private");
 * ```
 */
export class UnixTransport implements Transport {
  /** Always `"unix"`. */
  readonly kind = "unix" as const;
  /** The socket path. */
  readonly address: string;

  /** Creates a transport for `options.path`; nothing is opened yet. */
  constructor(options: UnixTransportOptions) {
    this.address = options.path;
  }

  /** Creates the private directory if needed and listens on the socket file. */
  async listen(): Promise<ByteListener> {
    const path = this.address;
    const dir = dirname(path);
    await ensurePrivateDir(dir);
    await removeStaleSocket(path);
    let listener: Deno.UnixListener;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } catch (e) {
      throw new TransportError("TRANSPORT_CONNECT", `cannot listen on ${path}: ${messageOf(e)}`, {
        address: path,
        cause: e,
      });
    }
    await Deno.chmod(path, 0o600);
    return new DenoByteListener(listener, this);
  }

  /** Connects to the socket file. */
  async dial(signal?: AbortSignal): Promise<ByteStream> {
    signal?.throwIfAborted();
    try {
      return await Deno.connect({ transport: "unix", path: this.address });
    } catch (e) {
      throw connectError(this.address, e);
    }
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

async function ensurePrivateDir(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    return;
  }
  const mode = (info.mode ?? 0) & 0o777;
  if (Deno.build.os !== "windows" && (mode & 0o077) !== 0) {
    throw new TransportError(
      "TRANSPORT_INSECURE_PATH",
      `socket directory ${dir} has mode 0${
        mode.toString(8)
      }; other users could reach the socket. Use a directory of mode 0700 (chmod 700 ${dir})`,
      { address: dir },
    );
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const info = await Deno.lstat(path);
    if (!info.isSocket) {
      throw new TransportError(
        "TRANSPORT_ADDRESS_IN_USE",
        `${path} exists and is not a socket; choose another path`,
        { address: path },
      );
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  let live: Deno.UnixConn | undefined;
  try {
    live = await Deno.connect({ transport: "unix", path });
  } catch {
    await Deno.remove(path);
    return;
  }
  live.close();
  throw new TransportError(
    "TRANSPORT_ADDRESS_IN_USE",
    `another process already listens on ${path}`,
    { address: path },
  );
}
