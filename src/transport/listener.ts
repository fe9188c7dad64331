import { ErrorFrame } from "./_control.ts";
import { handshake, importKey, newBootId, type PeerHello, sendError } from "./_handshake.ts";
import { Link, type LinkOptions, toTransportError } from "./link.ts";
import { silentLogger, type TransportLogger } from "./logger.ts";
import type { ByteListener, ByteStream, Transport } from "./transport.ts";
import { TransportError } from "./transport_error.ts";
import { noDelay } from "./_deno_listener.ts";

/** Options of {@linkcode LinkListener.listen}. */
export interface LinkListenerOptions extends LinkOptions {
  /**
   * Connections allowed to be in their handshake at once. A connection that
   * arrives when they are all taken is not refused: the one that least looks
   * like a peer is cut instead (with an Error frame `TRANSPORT_FLOOD`) — from
   * the remote address holding the most slots (TCP), the least advanced
   * (silent before trickling, trickling before a whole Hello, a Hello from an
   * unknown identity before a known one), the oldest first. A connection
   * younger than 25 ms is never cut (its Hello may be on its way); while only
   * such young ones hold the slots, up to four times this many are let in
   * (at most 192 more), and past that the listener accepts no more until the
   * oldest one's grace ends (newcomers wait in the system's accept queue). A
   * flood of idle or slow connections so only ever cuts its own. When
   * accepting fails for want of a file descriptor, a connection in its
   * handshake is cut the same way to free one. Default: 1024 (so a flood
   * holds at most 1,216 sockets); each costs a socket and a few KiB, and the
   * more a flood may hold until their Hello deadline, the less often it
   * reconnects. Where the open-file limit is low (Deno raises the soft limit
   * to the hard one, `ulimit -Hn`, at start), set this to a small part of it:
   * a flood's sockets are descriptors the rest of the process cannot open.
   */
  maxPendingHandshakes?: number;
  /**
   * Deadline for a new connection's whole Hello frame, in ms: silent and
   * trickling connections are cut this early, long before the handshake's
   * own deadline. Default: 2000 (never more than `handshakeTimeoutMs`).
   */
  helloTimeoutMs?: number;
}

/** One connection in its handshake. */
interface Pending {
  readonly stream: ByteStream;
  /** The remote host (TCP), or `""`. */
  readonly source: string;
  /**
   * How far it got: 0 nothing received, 1 bytes arriving, 2 a Hello from a
   * new identity, 3 a Hello from an identity this listener already serves.
   */
  stage: number;
  /** When it was accepted (`performance.now()`). */
  readonly at: number;
  readonly cut: AbortController;
}

/**
 * A connection is not cut for this long after it was accepted, in ms: the
 * time a peer's Hello, sent at once, needs to arrive and be read even while a
 * storm of new connections keeps the listener busy.
 */
const GRACE_MS = 25;

/**
 * Connections in their grace time may exceed `maxPendingHandshakes` by up to
 * three times it, and by at most `GRACE_EXTRA_MAX`; past that, the listener
 * stops accepting until the oldest one's grace ends, and turns a newcomer
 * away (`TRANSPORT_FLOOD`) only if every slot is still young when it accepts
 * again.
 */
const GRACE_FACTOR = 4;
const GRACE_EXTRA_MAX = 192;

/**
 * Default `maxPendingHandshakes`. A connection in its handshake holds a socket,
 * a 512-byte buffer and a timer (a few KiB in all); holding a flood's silent
 * connections until their Hello deadline, instead of cutting them to make
 * room, means the flood reconnects (and costs the CPU an accept and a cut)
 * less often. With the grace allowance a flood holds at most 1,216 sockets.
 */
const DEFAULT_MAX_PENDING = 1024;

/** The source of no connection: what `#cutOne` is given when the newcomer is not known yet. */
const NO_SOURCE = "\0";

/** Whether `e` is the system saying the process (or machine) has no file descriptor left. */
function outOfDescriptors(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** Lines of "connection refused" logged per second at most; the rest are counted. */
const REFUSED_LINES_PER_SECOND = 10;

/** Counters of a listener. */
export interface ListenerStats {
  /** Connections accepted by the socket. */
  accepted: number;
  /** Connections that completed the handshake. */
  authenticated: number;
  /** Connections refused or failed before completing the handshake (cut ones included). */
  refused: number;
  /** Of those, connections cut to make room for newer ones, or turned away (`TRANSPORT_FLOOD`). */
  cut: number;
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
  /** Connections held at most, young ones past `#maxPending` included. */
  readonly #maxHeld: number;
  readonly #helloTimeoutMs: number;
  readonly #links = new Map<string, Link>();
  readonly #handshakes = new Set<Promise<void>>();
  /** Connections in their handshake, oldest first. */
  readonly #pending = new Set<Pending>();
  /** Of those, how many each source holds (kept as they come and go: a flood cuts thousands a second). */
  readonly #perSource = new Map<string, number>();
  #closed = false;
  #acceptLoop: Promise<void> = Promise.resolve();
  #floodError: TransportError | undefined;
  #floodFrame: Uint8Array = new Uint8Array(0);
  #logWindowStart = 0;
  #logLines = 0;
  #unlogged = 0;

  /** Counters. */
  readonly stats: ListenerStats = { accepted: 0, authenticated: 0, refused: 0, cut: 0 };

  private constructor(listener: ByteListener, options: LinkListenerOptions, key?: CryptoKey) {
    this.#listener = listener;
    this.#options = options;
    this.#key = key;
    this.#log = options.logger ?? silentLogger;
    this.#maxPending = Math.max(1, options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING);
    this.#maxHeld = this.#maxPending +
      Math.min(this.#maxPending * (GRACE_FACTOR - 1), GRACE_EXTRA_MAX);
    this.#helloTimeoutMs = Math.min(
      options.helloTimeoutMs ?? 2000,
      options.handshakeTimeoutMs ?? 5000,
    );
  }

  /**
   * Listens on `transport` and starts accepting. Without a `key`, a TCP
   * listener reachable from other machines (any address but loopback) logs a
   * warning: anyone who can reach it can link under any identity.
   */
  static async listen(transport: Transport, options: LinkListenerOptions): Promise<LinkListener> {
    const key = options.key === undefined ? undefined : await importKey(options.key);
    const l = new LinkListener(await transport.listen(), options, key);
    if (key === undefined && transport.kind === "tcp" && !isLoopback(transport.address)) {
      l.#log.warn("tcp listener without a key is reachable from other machines", {
        address: l.transport.address,
        identity: options.identity,
        fix: "set a shared key (the key option of LinkListener.listen and Link.connect, BusNode " +
          "or runProcess; the CLI reads it from MYCELIUM_LINK_KEY) so that only your processes " +
          "can link and no one can take over a " +
          "peer's identity; or listen on 127.0.0.1",
      });
    }
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
      for (const p of this.#pending) closeQuietly(p.stream);
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
      await this.#outOfStorm();
      if (this.#closed) return;
      let stream: ByteStream;
      try {
        stream = await this.#listener.accept();
      } catch (e) {
        if (this.#closed || e instanceof Deno.errors.BadResource) return;
        if (outOfDescriptors(e) && this.#cutOne(NO_SOURCE, performance.now())) {
          // The process's open-file limit is the cap for now: the connection cut frees one
          // (closed once it is told why, a moment from now); the one waiting is accepted next.
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        // Out of file descriptors with nothing to cut, and the like: report, breathe, keep serving.
        this.#log.error("listener accept failed", {
          address: this.transport.address,
          error: toTransportError(e, ""),
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      this.stats.accepted++;
      const now = performance.now();
      const pending: Pending = {
        stream,
        source: this.transport.kind === "tcp" ? sourceOf(stream) : "",
        stage: 0,
        at: now,
        cut: new AbortController(),
      };
      if (
        this.#pending.size >= this.#maxPending && !this.#cutOne(pending.source, now) &&
        this.#pending.size >= this.#maxHeld
      ) {
        // Every slot holds a connection still in its grace time (rare: `#outOfStorm` waited for
        // the oldest's to end, but it may have been replaced since). Turn this one away.
        this.stats.refused++;
        this.stats.cut++;
        this.#logRefused(this.#flood());
        if (this.transport.address.startsWith("tls+")) closeQuietly(stream);
        else {
          const close = () => closeQuietly(stream);
          stream.write(this.#floodFrame).then(close, close);
        }
        continue;
      }
      this.#hold(pending);
      const p = this.#handshake(pending).finally(() => {
        this.#release(pending);
        this.#handshakes.delete(p);
      });
      this.#handshakes.add(p);
    }
  }

  /**
   * While every slot (the grace allowance included) holds a connection still
   * in its grace time, waits for the oldest one's to end before accepting
   * more: newcomers wait in the system's accept queue rather than being turned
   * away, and none is cut before its Hello had time to arrive.
   */
  async #outOfStorm(): Promise<void> {
    while (!this.#closed && this.#pending.size >= this.#maxHeld) {
      const oldest: Pending = this.#pending.values().next().value!;
      const wait = oldest.at + GRACE_MS - performance.now();
      if (wait <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
  }

  #hold(pending: Pending): void {
    this.#pending.add(pending);
    this.#perSource.set(pending.source, (this.#perSource.get(pending.source) ?? 0) + 1);
  }

  #release(pending: Pending): void {
    if (!this.#pending.delete(pending)) return;
    const left = this.#perSource.get(pending.source)! - 1;
    if (left === 0) this.#perSource.delete(pending.source);
    else this.#perSource.set(pending.source, left);
  }

  /**
   * Makes room for a connection from `source`: cuts, among the connections in
   * their handshake past their grace time, one from the source holding the
   * most of them, the least advanced, the oldest. Returns whether it cut one.
   */
  #cutOne(source: string, now: number): boolean {
    // The newcomer counts for its source.
    const countOf = (s: string) => (this.#perSource.get(s) ?? 0) + (s === source ? 1 : 0);
    let most = countOf(source);
    for (const s of this.#perSource.keys()) most = Math.max(most, countOf(s));
    let victim: Pending | undefined;
    let victimCount = 0;
    for (const p of this.#pending) {
      if (now - p.at < GRACE_MS) break; // Oldest first: the rest are younger still.
      const count = countOf(p.source);
      if (
        victim === undefined || count > victimCount ||
        (count === victimCount && p.stage < victim.stage)
      ) {
        victim = p;
        victimCount = count;
        // Nothing later can beat a silent one of the busiest source (the oldest such).
        if (count === most && p.stage === 0) break;
      }
    }
    if (victim === undefined) return false;
    // Its slot is free now, though telling it why takes a moment more.
    this.#release(victim);
    this.stats.cut++;
    victim.cut.abort(this.#flood());
    return true;
  }

  /**
   * The one error (and Error frame) of every cut connection: made once, since
   * a flood may cut thousands a second.
   */
  #flood(): TransportError {
    if (this.#floodError === undefined) {
      this.#floodError = new TransportError(
        "TRANSPORT_FLOOD",
        `'${this.#options.identity}' has no room for another connection in its handshake ` +
          `(${this.#maxPending} slots, or the process's open-file limit); this connection was ` +
          `cut to make room. Retry shortly`,
        { address: this.transport.address },
      );
      this.#floodFrame = ErrorFrame.toBytes({
        code: this.#floodError.code,
        message: this.#floodError.message,
        messageType: "",
      });
    }
    return this.#floodError;
  }

  #logRefused(error: TransportError): void {
    const now = Date.now();
    if (now - this.#logWindowStart >= 1000) {
      if (this.#unlogged > 0) {
        this.#log.error("connections refused without a log line of their own", {
          address: this.transport.address,
          count: this.#unlogged,
        });
      }
      this.#logWindowStart = now;
      this.#logLines = 0;
      this.#unlogged = 0;
    }
    if (this.#logLines >= REFUSED_LINES_PER_SECOND) {
      this.#unlogged++;
      return;
    }
    this.#logLines++;
    this.#log.error("connection refused", { address: this.transport.address, error });
  }

  async #handshake(pending: Pending): Promise<void> {
    const o = this.#options;
    const stream = pending.stream;
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
        helloTimeoutMs: this.#helloTimeoutMs,
        signal: pending.cut.signal,
        progress: (peer?: PeerHello) => {
          pending.stage = peer === undefined ? 1 : this.#links.has(peer.identity) ? 3 : 2;
        },
        bind: (peer: PeerHello) => {
          bound = this.#links.get(peer.identity);
          if (this.#key === undefined && bound?._heldByOther(peer.bootId) === true) {
            throw new TransportError(
              "TRANSPORT_DUPLICATE_IDENTITY",
              `'${o.identity}' already has a live link with a peer named '${peer.identity}'; ` +
                `refused a second one. Give each process its own identity, and configure a ` +
                `shared key so that no one else can claim one`,
              { peer: peer.identity },
            );
          }
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
      noDelay(stream);
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
      if (error === this.#floodError) {
        this.#logRefused(error);
        if (pending.stage === 0 && this.transport.address.startsWith("tls+")) {
          // Its TLS handshake may not even have begun: give the frame a bounded moment.
          await tell(stream, error);
          closeQuietly(stream);
        } else {
          // Told without waiting: the frame fits any socket buffer.
          const close = () => closeQuietly(stream);
          stream.write(this.#floodFrame).then(close, close);
        }
        return;
      }
      if (!this.#closed) {
        this.#logRefused(error);
        const told = error.code === "TRANSPORT_AUTH" || error.code === "TRANSPORT_CLOSED" ||
          error.code === "TRANSPORT_TIMEOUT";
        if (!told) await tell(stream, error);
      }
      closeQuietly(stream);
    }
  }
}

/** How long a refused connection gets to take its Error frame before it is closed anyway. */
const TELL_MS = 500;

/**
 * Sends `error` in an Error frame, waiting at most {@linkcode TELL_MS}: a peer
 * that does not read (or a TLS connection whose handshake never began) must
 * not hold the connection open.
 */
async function tell(stream: ByteStream, error: TransportError): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    sendError(stream, error),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, TELL_MS))),
  ]);
  clearTimeout(timer);
}

function closeQuietly(stream: ByteStream): void {
  try {
    stream.close();
  } catch {
    // Closed already (by the peer or a timeout).
  }
}

/** The remote host of a TCP connection, or `""`. */
function sourceOf(stream: ByteStream): string {
  const addr = stream.remoteAddr;
  return addr !== undefined && "hostname" in addr ? addr.hostname : "";
}

/** Whether a TCP address (`host:port`, maybe `tls+` in front) is on the loopback interface. */
export function isLoopback(address: string): boolean {
  const hostPort = address.startsWith("tls+") ? address.slice(4) : address;
  const host = hostPort.slice(0, hostPort.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
