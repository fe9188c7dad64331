/**
 * The link handshake, run once per connection before any message is handled:
 *
 * ```
 * dialer                                acceptor
 *   Hello(version, boot, nonce, identity, types) ─►
 *                                       ◄─ Hello, Auth(proof)
 *   (checks version, schemas, proof)
 *   Auth(proof, received, ref) ─►
 *                                       (checks version, schemas, proof)
 *                                       ◄─ Ready(received, ref)
 * ```
 *
 * A proof is HMAC-SHA256 under the shared key over a role label and both
 * Hello frames, so it binds both nonces (no replay), the role (no reflection)
 * and what each side declared (no tampering with the type lists). Without a key
 * the proof is empty and no check is made. `received`/`ref` say how many data
 * frames the sender of them already has from the other side's boot `ref`: the
 * resume point after a reconnect.
 *
 * Handshake frames are read into a small buffer of their own, capped at
 * {@linkcode HANDSHAKE_MAX_FRAME}, so an unauthenticated peer cannot make the
 * process allocate a large read slab.
 *
 * @module
 */
import type { Fields, Infer, MessageType, Registry } from "../codec/mod.ts";
import { checkHeader, HEADER_OFFSET, HEADER_SIZE } from "../codec/wire.ts";
import { Auth, ErrorFrame, Hello, LINK_PROTOCOL_VERSION, Ready } from "./_control.ts";
import type { ByteStream } from "./transport.ts";
import { TransportError, type TransportErrorCode } from "./transport_error.ts";

/** Largest handshake frame accepted (256 KiB: room for thousands of type lines). */
export const HANDSHAKE_MAX_FRAME = 256 * 1024;

/** What the peer said in its Hello. */
export interface PeerHello {
  readonly identity: string;
  readonly bootId: number;
  readonly maxFrameSize: number;
  /** Type ids the peer knows. */
  readonly types: ReadonlySet<number>;
}

/** The receive state a side reports: frames held from the peer's boot `ref`. */
export interface ResumePoint {
  readonly received: number;
  readonly ref: number;
}

/** Inputs of a handshake. */
export interface HandshakeSide {
  readonly role: "dialer" | "acceptor";
  readonly identity: string;
  readonly registry: Registry;
  readonly key: CryptoKey | undefined;
  readonly maxFrameSize: number;
  /** Deadline for the whole handshake. */
  readonly timeoutMs: number;
  /** Deadline for the peer's whole Hello, in ms (counted from the start). Default: `timeoutMs`. */
  readonly helloTimeoutMs?: number;
  /** Stops the handshake, which then throws the signal's reason (e.g. to make room in a flood). */
  readonly signal?: AbortSignal;
  /** Told when the peer's first bytes arrive (no argument), then when its Hello is in and checked. */
  progress?(peer?: PeerHello): void;
  /**
   * Called once the peer's Hello is in and checked. The dialer returns its
   * fixed boot id; the acceptor picks (or creates) the link for that peer.
   */
  bind(peer: PeerHello): number;
  /** Called after the peer is authenticated: this side's receive state for the peer. */
  resumePoint(peer: PeerHello): ResumePoint;
  /** The dialer's boot id (sent before the peer is known). */
  readonly bootId?: number;
}

/** What a successful handshake yields. */
export interface HandshakeResult {
  readonly peer: PeerHello;
  /** Where the peer's receive state for this side stands. */
  readonly peerResume: ResumePoint;
  /** Bytes read past the handshake: the start of the data stream. */
  readonly leftover: Uint8Array;
}

/** Imports a shared key for HMAC-SHA256. */
export function importKey(key: string | Uint8Array): Promise<CryptoKey> {
  const raw = typeof key === "string" ? new TextEncoder().encode(key) : key;
  return crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** A random boot id: a positive integer below 2^53. */
export function newBootId(): number {
  const w = crypto.getRandomValues(new Uint32Array(2));
  return (w[0]! & 0x1fffff) * 0x1_0000_0000 + w[1]! + 1;
}

/** Type lines of a registry: `id name fingerprint`. */
export function typeLines(registry: Registry): string {
  const lines: string[] = [];
  for (const t of registry) lines.push(`${t.id} ${t.name} ${t.fingerprint}`);
  return lines.join("\n");
}

/** Runs the handshake on `stream`. Closes nothing; throws a TransportError on failure. */
export async function handshake(stream: ByteStream, side: HandshakeSide): Promise<HandshakeResult> {
  const reader = new HandshakeReader(stream, side);
  let timedOut = "";
  const whole = (ms: number) =>
    setTimeout(() => {
      timedOut = `handshake did not complete within ${side.timeoutMs} ms`;
      reader.abort();
    }, ms);
  const helloMs = side.helloTimeoutMs;
  // One timer at a time: the Hello's, then (once it is in) the rest of the whole
  // handshake's. A flood of connections that never send a Hello costs one timer each.
  let timer: ReturnType<typeof setTimeout>;
  if (helloMs === undefined || helloMs >= side.timeoutMs) timer = whole(side.timeoutMs);
  else {
    const start = performance.now();
    timer = setTimeout(() => {
      timedOut = `no whole Hello within ${helloMs} ms (${
        reader.bytesRead === 0 ? "silent" : `${reader.bytesRead} bytes`
      })`;
      reader.abort();
    }, helloMs);
    reader.onHello = () => {
      clearTimeout(timer);
      timer = whole(Math.max(0, side.timeoutMs - (performance.now() - start)));
    };
  }
  try {
    return side.role === "dialer"
      ? await dial(stream, reader, side)
      : await accept(stream, reader, side);
  } catch (e) {
    if (timedOut !== "" && !side.signal?.aborted) {
      throw new TransportError("TRANSPORT_TIMEOUT", timedOut, { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    reader.dispose();
  }
}

async function dial(
  stream: ByteStream,
  reader: HandshakeReader,
  side: HandshakeSide,
): Promise<HandshakeResult> {
  const myHello = helloBytes(side, side.bootId ?? 0);
  await writeAll(stream, myHello);
  const peerHelloAt = await reader.expect(Hello, undefined);
  const peerHelloBytes = reader.frame(peerHelloAt);
  const peer = checkHello(reader, peerHelloAt, side);
  side.bind(peer);
  const auth = await reader.read(Auth, peer.identity);
  await verify(stream, side, "acceptor", myHello, peerHelloBytes, auth.proof, peer.identity);
  const resume = side.resumePoint(peer);
  const proof = await prove(side, "dialer", myHello, peerHelloBytes);
  await writeAll(
    stream,
    Auth.toBytes({ received: resume.received, ref: resume.ref, proof }),
  );
  const ready = await reader.read(Ready, peer.identity);
  return {
    peer,
    peerResume: { received: ready.received, ref: ready.ref },
    leftover: reader.leftover(),
  };
}

async function accept(
  stream: ByteStream,
  reader: HandshakeReader,
  side: HandshakeSide,
): Promise<HandshakeResult> {
  const peerHelloAt = await reader.expect(Hello, undefined);
  const peerHelloBytes = reader.frame(peerHelloAt).slice();
  const peer = checkHello(reader, peerHelloAt, side);
  const bootId = side.bind(peer);
  const myHello = helloBytes(side, bootId);
  const proof = await prove(side, "acceptor", peerHelloBytes, myHello);
  const auth = Auth.toBytes({ received: 0, ref: 0, proof });
  const out = new Uint8Array(myHello.length + auth.length);
  out.set(myHello);
  out.set(auth, myHello.length);
  await writeAll(stream, out);
  const peerAuth = await reader.read(Auth, peer.identity);
  await verify(stream, side, "dialer", peerHelloBytes, myHello, peerAuth.proof, peer.identity);
  const resume = side.resumePoint(peer);
  await writeAll(stream, Ready.toBytes({ received: resume.received, ref: resume.ref }));
  return {
    peer,
    peerResume: { received: peerAuth.received, ref: peerAuth.ref },
    leftover: reader.leftover(),
  };
}

function helloBytes(side: HandshakeSide, bootId: number): Uint8Array {
  return Hello.toBytes({
    protocol: LINK_PROTOCOL_VERSION,
    bootId,
    maxFrameSize: side.maxFrameSize,
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    identity: side.identity,
    types: typeLines(side.registry),
  });
}

function checkHello(reader: HandshakeReader, at: number, side: HandshakeSide): PeerHello {
  reader.onHello?.();
  const hello = decodeFrame(Hello, reader.buf, at, undefined);
  if (hello.identity === "") {
    throw new TransportError(
      "TRANSPORT_HANDSHAKE",
      `a peer sent a Hello without an identity; every process needs a non-empty identity`,
    );
  }
  if (hello.protocol !== LINK_PROTOCOL_VERSION) {
    throw new TransportError(
      "TRANSPORT_VERSION",
      `peer '${hello.identity}' speaks link protocol ${hello.protocol}; ` +
        `'${side.identity}' speaks ${LINK_PROTOCOL_VERSION}. Run the same Mycelium version on both`,
      { peer: hello.identity },
    );
  }
  const types = checkSchemas(side.registry, side.identity, hello.identity, hello.types);
  const peer = {
    identity: hello.identity,
    bootId: hello.bootId,
    maxFrameSize: hello.maxFrameSize,
    types,
  };
  side.progress?.(peer);
  return peer;
}

/**
 * Refuses a peer that knows a shared type id or name with another schema,
 * naming the type and both sides. Returns the ids the peer knows.
 */
export function checkSchemas(
  registry: Registry,
  local: string,
  remote: string,
  lines: string,
): Set<number> {
  const ids = new Set<number>();
  if (lines === "") return ids;
  for (const line of lines.split("\n")) {
    const [idText, name, fp] = line.split(" ");
    const id = Number(idText);
    ids.add(id);
    const mine: MessageType | undefined = registry.get(id) ??
      (name === undefined ? undefined : registry.byName(name));
    if (mine === undefined) continue;
    if (mine.id !== id || mine.name !== name || mine.fingerprint !== fp) {
      throw new TransportError(
        "TRANSPORT_SCHEMA_MISMATCH",
        `message type '${mine.name}' differs: '${local}' has id ${mine.id} name ${mine.name} ` +
          `fingerprint ${mine.fingerprint}; '${remote}' has id ${id} name ${name} fingerprint ${fp}. ` +
          `Deploy the same message definitions on both sides`,
        { peer: remote, messageType: mine.name },
      );
    }
  }
  return ids;
}

const LABELS = {
  dialer: new TextEncoder().encode("mycelium-link-1 dialer proof"),
  acceptor: new TextEncoder().encode("mycelium-link-1 acceptor proof"),
};

function transcript(role: "dialer" | "acceptor", a: Uint8Array, b: Uint8Array): Uint8Array {
  const label = LABELS[role];
  const out = new Uint8Array(label.length + a.length + b.length);
  out.set(label);
  out.set(a, label.length);
  out.set(b, label.length + a.length);
  return out;
}

async function prove(
  side: HandshakeSide,
  role: "dialer" | "acceptor",
  dialerHello: Uint8Array,
  acceptorHello: Uint8Array,
): Promise<Uint8Array> {
  if (side.key === undefined) return new Uint8Array(0);
  const data = transcript(role, dialerHello, acceptorHello) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(await crypto.subtle.sign("HMAC", side.key, data));
}

async function verify(
  stream: ByteStream,
  side: HandshakeSide,
  role: "dialer" | "acceptor",
  dialerHello: Uint8Array,
  acceptorHello: Uint8Array,
  proof: Uint8Array,
  peer: string,
): Promise<void> {
  if (side.key === undefined) return;
  const data = transcript(role, dialerHello, acceptorHello) as Uint8Array<ArrayBuffer>;
  const ok = proof.length === 32 &&
    await crypto.subtle.verify("HMAC", side.key, proof as Uint8Array<ArrayBuffer>, data);
  if (ok) return;
  const error = new TransportError(
    "TRANSPORT_AUTH",
    proof.length === 0
      ? `peer '${peer}' sent no key proof; '${side.identity}' requires the shared key`
      : `peer '${peer}' failed the shared-key challenge`,
    { peer },
  );
  await sendError(stream, error);
  throw error;
}

/** Tells the peer why the link is being closed; ignores a peer that is already gone. */
export async function sendError(stream: ByteStream, error: TransportError): Promise<void> {
  try {
    await writeAll(
      stream,
      ErrorFrame.toBytes({
        code: error.code,
        message: error.message,
        messageType: error.messageType ?? "",
      }),
    );
  } catch {
    // The peer went away first; the caller closes anyway.
  }
}

/** Writes all of `bytes`. */
export async function writeAll(stream: ByteStream, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await stream.write(done === 0 ? bytes : bytes.subarray(done));
  }
}

const PEER_CODES: ReadonlySet<string> = new Set<TransportErrorCode>([
  "TRANSPORT_AUTH",
  "TRANSPORT_VERSION",
  "TRANSPORT_SCHEMA_MISMATCH",
  "TRANSPORT_HANDSHAKE",
  "TRANSPORT_TIMEOUT",
  "TRANSPORT_PROTOCOL",
  "TRANSPORT_FLOOD",
  "TRANSPORT_DUPLICATE_IDENTITY",
  "TRANSPORT_CLOSED",
]);

const fromPeer = new WeakSet<TransportError>();

/** Whether `error` is what a peer's Error frame reported (see {@linkcode peerError}). */
export function isPeerError(error: TransportError): boolean {
  return fromPeer.has(error);
}

/** The error a peer's Error frame reports, as a TransportError of the same code. */
export function peerError(
  code: string,
  message: string,
  peer: string | undefined,
  messageType = "",
): TransportError {
  const known = PEER_CODES.has(code) ? code as TransportErrorCode : "TRANSPORT_PEER_ERROR";
  const who = peer === undefined ? "the peer" : `peer '${peer}'`;
  const error = new TransportError(known, `${who} closed the link: ${message}`, {
    ...(peer === undefined ? {} : { peer }),
    ...(messageType === "" ? {} : { messageType }),
  });
  fromPeer.add(error);
  return error;
}

/**
 * Decodes the handshake frame at `at`: a body that does not decode (a string
 * that is not UTF-8, an entry running past the frame, …) is the peer's
 * mistake, reported as `TRANSPORT_HANDSHAKE` (and told to the peer).
 */
function decodeFrame<F extends Fields>(
  type: MessageType<F>,
  buf: Uint8Array,
  at: number,
  peer: string | undefined,
): Infer<F> {
  try {
    return type.decode(buf, at);
  } catch (e) {
    const who = peer === undefined ? "a peer" : `peer '${peer}'`;
    throw new TransportError(
      "TRANSPORT_HANDSHAKE",
      `${who} sent a malformed ${type.name} frame: ${e instanceof Error ? e.message : String(e)}`,
      { ...(peer === undefined ? {} : { peer }), cause: e },
    );
  }
}

/** Reads whole handshake frames into a small growing buffer. */
class HandshakeReader {
  // Small to start with (most connections of a flood never send a byte); grown to fit a frame.
  buf = new Uint8Array(512);
  #dv = new DataView(this.buf.buffer);
  #start = 0;
  #end = 0;
  readonly #stream: ByteStream;
  readonly #side: HandshakeSide;
  /** Rejects with the signal's reason when the handshake is stopped from outside. */
  readonly #stopped: Promise<never> | undefined;
  #aborted = false;
  /** Removes the listener on the side's signal (which may outlive the handshake: a link's). */
  readonly #unlisten: (() => void) | undefined;
  /** Bytes received so far. */
  bytesRead = 0;
  /** Called once the first whole frame (the Hello) is in. */
  onHello: (() => void) | undefined;

  constructor(stream: ByteStream, side: HandshakeSide) {
    this.#stream = stream;
    this.#side = side;
    const signal = side.signal;
    if (signal !== undefined) {
      let onAbort: (() => void) | undefined;
      this.#stopped = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        else {
          onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
        }
      });
      this.#stopped.catch(() => {});
      if (onAbort !== undefined) {
        const listener = onAbort;
        this.#unlisten = () => signal.removeEventListener("abort", listener);
      }
    }
  }

  /** Lets go of the side's signal: called once the handshake ended, however it ended. */
  dispose(): void {
    this.#unlisten?.();
  }

  abort(): void {
    this.#aborted = true;
    try {
      this.#stream.close();
    } catch {
      // Already closed.
    }
  }

  /** Offset of the next frame, which must be of `type` (an Error frame is thrown as such). */
  async expect(type: MessageType, peer: string | undefined): Promise<number> {
    const at = await this.#next();
    const id = this.#dv.getUint16(at + HEADER_OFFSET.typeId, true);
    if (id === type.id) return at;
    if (id === ErrorFrame.id) {
      const e = decodeFrame(ErrorFrame, this.buf, at, peer);
      throw peerError(e.code, e.message, peer, e.messageType);
    }
    throw new TransportError(
      "TRANSPORT_HANDSHAKE",
      `expected a ${type.name} frame during the handshake, got type id ${id}`,
      peer === undefined ? {} : { peer },
    );
  }

  /** The next frame, which must be of `type`, decoded. */
  async read<F extends Fields>(type: MessageType<F>, peer: string | undefined): Promise<Infer<F>> {
    const at = await this.expect(type, peer);
    return decodeFrame(type, this.buf, at, peer);
  }

  /** The bytes of the frame at `at` (a view into the buffer). */
  frame(at: number): Uint8Array {
    return this.buf.subarray(at, at + HEADER_SIZE + this.#dv.getUint32(at + 8, true));
  }

  leftover(): Uint8Array {
    return this.buf.slice(this.#start, this.#end);
  }

  async #next(): Promise<number> {
    for (;;) {
      const have = this.#end - this.#start;
      if (have >= HEADER_SIZE) {
        let length: number;
        try {
          length = checkHeader(this.buf, this.#dv, this.#start, HANDSHAKE_MAX_FRAME);
        } catch (e) {
          throw new TransportError(
            "TRANSPORT_HANDSHAKE",
            `malformed handshake frame: ${(e as Error).message}`,
            { cause: e },
          );
        }
        if (have >= length) {
          const at = this.#start;
          this.#start += length;
          return at;
        }
        this.#room(length);
      } else {
        this.#room(HEADER_SIZE);
      }
      let n: number | null;
      try {
        const read = this.#stream.read(this.buf.subarray(this.#end));
        if (this.#stopped === undefined) n = await read;
        else {
          // The losing read fails when the caller closes the stream: nobody waits for it.
          read.catch(() => {});
          n = await Promise.race([read, this.#stopped]);
        }
      } catch (e) {
        if (this.#aborted || this.#side.signal?.aborted) throw e;
        throw new TransportError("TRANSPORT_CLOSED", `connection failed during the handshake`, {
          cause: e,
        });
      }
      if (n === null) {
        throw new TransportError(
          "TRANSPORT_CLOSED",
          "the peer closed the connection during the handshake",
        );
      }
      if (this.bytesRead === 0 && n > 0) this.#side.progress?.();
      this.bytesRead += n;
      this.#end += n;
    }
  }

  /** Makes room for a frame of `length` bytes at the read position. */
  #room(length: number): void {
    if (this.buf.length - this.#start >= length && this.#end < this.buf.length) return;
    // Frames before #start stay readable until the handshake returns: keep them, grow.
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.#start + length));
    next.set(this.buf.subarray(0, this.#end));
    this.buf = next;
    this.#dv = new DataView(next.buffer);
  }
}
