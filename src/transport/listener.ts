import { handshake, importKey, newBootId, type PeerHello, sendError } from "./_handshake.ts";
import { Link, type LinkOptions, toTransportError } from "./link.ts";
import { stderrLogger, type TransportLogger } from "./logger.ts";
import type { ByteListener, ByteStream, Transport } from "./transport.ts";
import { TransportError } from "./transport_error.ts";

/** Options of {@linkcode LinkListener.listen}. */
export interface LinkListenerOptions extends LinkOptions {
  /**
   * Connections allowed to be in their handshake at once. Further ones are
   * closed at once (`TRANSPORT_FLOOD`), so a flood of idle or unauthenticated
   * connections cannot exhaust the process. Default: 64.
   */
  maxPendingHandshakes?: number;
}

/** Counters of a listener. */
export interface ListenerStats {
  /** Connections accepted by the socket. */
  accepted: number;
  /** Connections that completed the handshake. */
  authenticated: number;
  /** Connections refused or failed before completing the handshake. */
  refused: number;
}

/**
 * Accepts connections on a transport, runs each one's handshake (bounded in
 * time and in number), and serves one {@linkcode Link} per peer identity: a
 * peer that reconnects (or restarts) gets its existing link back, with what was
 * buffered for it while it was away.
 *
 * A connection that misbehaves (garbage, a wrong version or schema, a failed
 * key proof, a stalled handshake) is closed with a logged
 * {@linkcode TransportError}; the listener and every other link keep working.
 *
 * @example
 * ```ts
 * import { Registry } from "../codec/mod.ts";
 * import { LinkListener } from "./listener.ts";
 * import { TcpTransport } from "./tcp.ts";
 * await using listener = await LinkListener.listen(new TcpTransport({ port: 0 }), {
 *   registry: new Registry(),
 *   identity: "hub",
 * });
 * if (listener.links.size !== 0) throw new Error("no peer yet");
 * ```
 */
export class LinkListener implements AsyncDisposable {
  readonly #listener: ByteListener;
  readonly #options: LinkListenerOptions;
  readonly #key: CryptoKey | undefined;
  readonly #log: TransportLogger;
  readonly #maxPending: number;
  readonly #links = new Map<string, Link>();
  readonly #handshakes = new Set<Promise<void>>();
  readonly #streams = new Set<ByteStream>();
  #pending = 0;
  #closed = false;
  #acceptLoop: Promise<void> = Promise.resolve();

  /** Counters. */
  readonly stats: ListenerStats = { accepted: 0, authenticated: 0, refused: 0 };

  private constructor(listener: ByteListener, options: LinkListenerOptions, key?: CryptoKey) {
    this.#listener = listener;
    this.#options = options;
    this.#key = key;
    this.#log = options.logger ?? stderrLogger;
    this.#maxPending = options.maxPendingHandshakes ?? 64;
  }

  /** Listens on `transport` and starts accepting. */
  static async listen(transport: Transport, options: LinkListenerOptions): Promise<LinkListener> {
    const key = options.key === undefined ? undefined : await importKey(options.key);
    const l = new LinkListener(await transport.listen(), options, key);
    l.#acceptLoop = l.#accept();
    return l;
  }

  /** A transport that dials this listener (with the real port when listening on port 0). */
  get transport(): Transport {
    return this.#listener.transport;
  }

  /** The link of each peer identity that connected (open or away). */
  get links(): ReadonlyMap<string, Link> {
    return this.#links;
  }

  /** Stops accepting, closes every link (draining each, see `Link.close`). Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
      for (const s of this.#streams) s.close();
    }
    await this.#acceptLoop;
    await Promise.all([...this.#handshakes]);
    await Promise.all([...this.#links.values()].map((l) => l.close()));
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    while (!this.#closed) {
      let stream: ByteStream;
      try {
        stream = await this.#listener.accept();
      } catch (e) {
        if (this.#closed || e instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: report, breathe, keep serving.
        this.#log.error("listener accept failed", {
          address: this.transport.address,
          error: toTransportError(e, ""),
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.stats.accepted++;
      if (this.#pending >= this.#maxPending) {
        this.stats.refused++;
        const error = new TransportError(
          "TRANSPORT_FLOOD",
          `${this.#pending} connections are already in their handshake (limit ${this.#maxPending}); refused one`,
          { address: this.transport.address },
        );
        this.#log.error("connection refused", { address: this.transport.address, error });
        try {
          stream.close();
        } catch {
          // Gone already.
        }
        continue;
      }
      this.#pending++;
      this.#streams.add(stream);
      const p = this.#handshake(stream).finally(() => {
        this.#pending--;
        this.#streams.delete(stream);
        this.#handshakes.delete(p);
      });
      this.#handshakes.add(p);
    }
  }

  async #handshake(stream: ByteStream): Promise<void> {
    const o = this.#options;
    let bound: Link | undefined;
    let bootId = 0;
    try {
      const result = await handshake(stream, {
        role: "acceptor",
        identity: o.identity,
        registry: o.registry,
        key: this.#key,
        maxFrameSize: o.registry.maxFrameSize,
        timeoutMs: o.handshakeTimeoutMs ?? 5000,
        bind: (peer: PeerHello) => {
          bound = this.#links.get(peer.identity);
          bootId = bound === undefined ? newBootId() : bound._bootId;
          return bootId;
        },
        resumePoint: (peer: PeerHello) => {
          if (bound === undefined) return { received: 0, ref: peer.bootId };
          // The peer proved itself: stop the old connection so the count is final.
          bound._detach("the peer reconnected");
          return bound._resumePoint(peer);
        },
      });
      if (this.#closed) {
        stream.close();
        return;
      }
      this.stats.authenticated++;
      let link = this.#links.get(result.peer.identity);
      if (link === undefined || link.state === "closed") {
        link = Link._accepted({
          options: o,
          key: this.#key,
          bootId,
          peer: result.peer.identity,
          transport: this.transport,
          onClosed: (l) => {
            if (this.#links.get(l.peer) === l) this.#links.delete(l.peer);
          },
        });
        this.#links.set(result.peer.identity, link);
      }
      link._serve(stream, result);
    } catch (e) {
      this.stats.refused++;
      const error = toTransportError(e, "");
      if (!this.#closed) {
        this.#log.error("connection refused", { address: this.transport.address, error });
        const told = error.code === "TRANSPORT_AUTH" || error.code === "TRANSPORT_CLOSED" ||
          error.code === "TRANSPORT_TIMEOUT";
        if (!told) {
          await sendError(stream, error);
        }
      }
      try {
        stream.close();
      } catch {
        // Closed by the timeout already.
      }
    }
  }
}
