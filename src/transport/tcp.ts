import type { ByteListener, ByteStream, Transport } from "./transport.ts";
import { TransportError } from "./transport_error.ts";
import { connectError, DenoByteListener, messageOf } from "./_deno_listener.ts";

/** TLS settings of a {@linkcode TcpTransport}: PEM files. */
export interface TlsOptions {
  /** Certificate chain presented by a listener (PEM file). Required to listen. */
  certFile?: string;
  /** Private key of `certFile` (PEM file). Required to listen. */
  keyFile?: string;
  /** CA certificate(s) a dialer trusts (PEM file). Default: the system's roots. */
  caFile?: string;
}

/** Options of {@linkcode TcpTransport}. */
export interface TcpTransportOptions {
  /** Host to listen on or dial. Default: `"127.0.0.1"`. */
  hostname?: string;
  /** Port; 0 lets a listener pick one (read it from `listener.transport`). */
  port: number;
  /** Run the connection over TLS. Default: plain TCP. */
  tls?: TlsOptions;
}

/**
 * TCP between machines, plain or TLS (`Deno.listenTls` / `Deno.connectTls`).
 * Nagle's algorithm is off: links coalesce writes themselves.
 *
 * @example
 * ```ts
 * import { TcpTransport } from "./tcp.ts";
 * const listener = await new TcpTransport({ port: 0 }).listen();
 * const address = listener.transport.address; // "127.0.0.1:<port>"
 * listener.close();
 * if (!address.startsWith("127.0.0.1:")) throw new Error(address);
 * ```
 */
export class TcpTransport implements Transport {
  /** Always `"tcp"`. */
  readonly kind = "tcp" as const;
  /** `host:port`, with `tls+` in front when TLS is on. */
  readonly address: string;
  readonly #hostname: string;
  readonly #port: number;
  readonly #tls: TlsOptions | undefined;

  /** Creates a transport for `hostname:port`; nothing is opened yet. */
  constructor(options: TcpTransportOptions) {
    this.#hostname = options.hostname ?? "127.0.0.1";
    this.#port = options.port;
    this.#tls = options.tls;
    this.address = `${this.#tls ? "tls+" : ""}${this.#hostname}:${this.#port}`;
  }

  /** Listens on the address (TLS when configured). */
  async listen(): Promise<ByteListener> {
    const tls = this.#tls;
    let listener: Deno.Listener;
    try {
      if (tls) {
        if (tls.certFile === undefined || tls.keyFile === undefined) {
          throw new TransportError(
            "TRANSPORT_CONNECT",
            `TLS listener on ${this.address} needs tls.certFile and tls.keyFile`,
            { address: this.address },
          );
        }
        const [cert, key] = await Promise.all([
          Deno.readTextFile(tls.certFile),
          Deno.readTextFile(tls.keyFile),
        ]);
        listener = Deno.listenTls({ hostname: this.#hostname, port: this.#port, cert, key });
      } else {
        listener = Deno.listen({ hostname: this.#hostname, port: this.#port });
      }
    } catch (e) {
      if (e instanceof TransportError) throw e;
      const code = e instanceof Deno.errors.AddrInUse
        ? "TRANSPORT_ADDRESS_IN_USE"
        : "TRANSPORT_CONNECT";
      throw new TransportError(code, `cannot listen on ${this.address}: ${messageOf(e)}`, {
        address: this.address,
        cause: e,
      });
    }
    const port = (listener.addr as Deno.NetAddr).port;
    const bound = new TcpTransport({
      hostname: this.#hostname,
      port,
      ...(tls ? { tls } : {}),
    });
    // Nagle's algorithm is turned off once a connection's handshake is done (`noDelay`, by
    // the link listener): a flood of connections that never hand-shake costs no setsockopt.
    return new DenoByteListener(listener, bound);
  }

  /**
   * Connects (and runs the TLS handshake when configured).
   *
   * @throws {TransportError} `TRANSPORT_CONNECT` when the address cannot be
   *   reached (worth retrying); `TRANSPORT_TLS` when the server's certificate
   *   is refused or `tls.caFile` cannot be read (no retry can fix it).
   */
  async dial(signal?: AbortSignal): Promise<ByteStream> {
    signal?.throwIfAborted();
    const tls = this.#tls;
    if (tls) {
      let caCerts: string[] = [];
      if (tls.caFile !== undefined) {
        try {
          caCerts = [await Deno.readTextFile(tls.caFile)];
        } catch (e) {
          throw new TransportError(
            "TRANSPORT_TLS",
            `cannot read tls.caFile ${tls.caFile} to dial ${this.address}: ${messageOf(e)}; ` +
              `point tls.caFile at the PEM file of the CA that signed the server's certificate`,
            { address: this.address, cause: e },
          );
        }
      }
      let conn: Deno.TlsConn | undefined;
      try {
        conn = await Deno.connectTls({ hostname: this.#hostname, port: this.#port, caCerts });
        await conn.handshake();
        return conn;
      } catch (e) {
        conn?.close();
        if (e instanceof Deno.errors.InvalidData) throw this.#tlsError(e);
        throw connectError(this.address, e);
      }
    }
    try {
      const conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
      conn.setNoDelay(true);
      return conn;
    } catch (e) {
      throw connectError(this.address, e);
    }
  }

  #tlsError(e: unknown): TransportError {
    return new TransportError(
      "TRANSPORT_TLS",
      `TLS handshake with ${this.address} failed: ${messageOf(e)}. The server's certificate must ` +
        `be signed by the CA in tls.caFile (default: the system's roots) and name the host dialed ` +
        `('${this.#hostname}')`,
      { address: this.address, cause: e },
    );
  }
}
