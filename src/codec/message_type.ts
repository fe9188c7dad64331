/**
 * Message types: a schema with a numeric id, a name and a topic, that encodes,
 * decodes and views frames of one kind.
 *
 * @module
 */
import { CodecError } from "./codec_error.ts";
import { compile, type Compiled, layout } from "./_compile.ts";
import { type Fields, type Infer, isVariable, MAX_FIXED_BYTES } from "./field.ts";
import { HEADER_OFFSET, isUserTypeId, viewOf } from "./wire.ts";

/** What {@linkcode defineMessage} takes. */
export interface MessageTypeOptions<F extends Fields> {
  /**
   * Numeric type id, 1 to 0xFEFF. Applications use 1 to 0xFEEF: 0xFEF0 to
   * 0xFEFF are reserved for Mycelium's own messages between buses (declared
   * with this same function, so not refused here), 0xFF00 and up for the
   * link's control frames (refused).
   */
  id: number;
  /**
   * Unique name, e.g. `"V2Swap"` or `"orders.Placed"`: an ASCII letter or `_`,
   * then letters, digits, `_` or `.`, at most 128 characters. Links carry it
   * in their handshake and it is part of the fingerprint, so nothing else is
   * allowed (no spaces, no separators).
   */
  name: string;
  /** Topic that `publish` uses for this type: no control characters (line breaks). Default: the name. */
  topic?: string;
  /** The fields, in wire order. Append new fields at the end to stay compatible. */
  fields: F;
}

/**
 * A message of type `F`: the plain object an actor sends, and the plain
 * object a handler receives wherever the message came from (this process,
 * a faithful round trip, or another process over a link).
 *
 * What holds in every mode: fields are own, enumerable data properties, in
 * declaration order for decoded messages (spread, `Object.keys`,
 * `structuredClone` and `JSON.stringify` see them all); byte fields
 * (`bytes(n)`, `varBytes()`) are `Uint8Array`s that stay valid after the
 * handler returns, whatever the link reads next; 64- and 256-bit integers
 * are bigints.
 *
 * JSON: `JSON.stringify` of a message with a bigint field throws a
 * `TypeError`, in every mode, as for any object holding a bigint; byte
 * fields serialise as objects keyed by index (`{"0":1,"1":2}`). Pass a
 * replacer for another format, e.g. decimal strings and hex:
 *
 * ```ts
 * const json = (m: object) =>
 *   JSON.stringify(m, (_k, v) =>
 *     typeof v === "bigint" ? v.toString()
 *     : v instanceof Uint8Array ? Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("")
 *     : v);
 * if (json({ n: 1n, id: new Uint8Array([1, 255]) }) !== '{"n":"1","id":"01ff"}') throw new Error();
 * ```
 *
 * `structuredClone` copies a byte field's whole underlying buffer: decoded
 * byte fields share 64 KiB chunks, so clone a decoded message sparingly.
 */
export type Message<F extends Fields> = Infer<F>;

/** The message type of a {@linkcode MessageType}: `MessageOf<typeof V2Swap>`. */
export type MessageOf<T> = T extends MessageType<infer F> ? Infer<F> : never;

/**
 * A zero-copy view over an encoded frame. Fields are getters on a prototype
 * that read the frame's bytes when accessed; byte fields are subarrays of the
 * frame, valid as long as the buffer is not overwritten (keeping one keeps
 * the whole buffer alive).
 *
 * A view is not a plain {@linkcode Message}: spread, `Object.keys`,
 * `Object.entries` and `structuredClone` see none of its fields. Read fields
 * by name, or call `toObject()` for the plain message `decode` would give;
 * `JSON.stringify` serialises that plain message (see {@linkcode Message}).
 * Buses hand handlers plain messages; an actor gets views only when it asks
 * (`SpawnOptions.views`).
 */
export type MessageView<F extends Fields> = Readonly<Infer<F>> & {
  /** The message type of the frame. */
  readonly type: MessageType<F>;
  /** A plain, independent copy of the message: what `decode` returns for the frame. */
  toObject(): Infer<F>;
  /** The plain copy, for `JSON.stringify`. */
  toJSON(): Infer<F>;
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Type names: no space (links split type lines on it) and no `|` or `:` (fingerprint separators). */
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** Longest type name accepted. */
const MAX_TYPE_NAME_LENGTH = 128;
/** Control characters, line breaks among them (links separate topics with `\n`). */
// deno-lint-ignore no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/;
const RESERVED_FIELD_NAMES = new Set([
  "type",
  "toObject",
  "toJSON",
  "constructor",
  "__proto__",
  "prototype",
]);
/** Size of each kind on the wire; `bytes` is checked apart (1 to MAX_FIXED_BYTES). */
const KIND_SIZE: Readonly<Record<string, number>> = {
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  i8: 1,
  i16: 2,
  i32: 4,
  i64: 8,
  f32: 4,
  f64: 8,
  bool: 1,
  u256: 32,
  string: 0,
  varbytes: 0,
};
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * One message type: its schema plus compiled encode, decode and view code.
 * Create it with {@linkcode defineMessage}.
 */
export class MessageType<F extends Fields = Fields> {
  /** Numeric type id carried in every frame. */
  readonly id: number;
  /** Unique name. */
  readonly name: string;
  /** Topic used by `publish`. */
  readonly topic: string;
  /** Field descriptors, in wire order. */
  readonly fields: F;
  /** Bytes of the fixed block. */
  readonly fixedSize: number;
  /** Whether the type has variable-length fields (strings, byte strings). */
  readonly variable: boolean;
  /**
   * 16 hex digits identifying the schema (id, name, each field's name, kind
   * and size, in order). Two sides with different fingerprints for one id
   * disagree about the type.
   */
  readonly fingerprint: string;
  readonly #code: Compiled;

  /** Use {@linkcode defineMessage}, which checks the options. */
  constructor(options: MessageTypeOptions<F>) {
    const l = layout(options.fields);
    this.id = options.id;
    this.name = options.name;
    this.topic = options.topic ?? options.name;
    this.fields = options.fields;
    this.fixedSize = l.fixedSize;
    this.variable = l.variable.length > 0;
    this.fingerprint = fingerprint(options);
    this.#code = compile(l, options.id, this);
  }

  /**
   * Encodes `message` as one frame into `target` at `offset` and returns the
   * offset just past it. Allocates nothing when `target` is the buffer of the
   * previous call (keep one slab and move the offset along).
   *
   * On failure nothing before `offset` has been touched and no header has
   * been written at `offset`, but bytes after it may hold part of a body: keep
   * your offset where it was and send nothing from there.
   *
   * @throws {CodecError} `CODEC_BUFFER_TOO_SMALL`, or `CODEC_INVALID_VALUE` for
   * a value that does not fit its field or a bad offset.
   */
  encode(message: Readonly<Infer<F>>, target: Uint8Array, offset = 0): number {
    // The generated code indexes with `offset` unchecked: NaN, negative or
    // fractional offsets would write the frame to the wrong place.
    if (!(offset >= 0 && Number.isInteger(offset))) {
      throw new CodecError(
        "CODEC_INVALID_VALUE",
        `offset must be a non-negative integer, got ${offset}`,
      );
    }
    return this.#code.encode(message, target, viewOf(target), offset);
  }

  /** Bytes the frame of `message` takes. */
  encodedSize(message: Readonly<Infer<F>>): number {
    return this.#code.size(message);
  }

  /** Encodes `message` into a new buffer of exactly its size. Convenient, not for hot paths. */
  toBytes(message: Readonly<Infer<F>>): Uint8Array {
    const out = new Uint8Array(this.encodedSize(message));
    this.#code.encode(message, out, new DataView(out.buffer), 0);
    return out;
  }

  /**
   * Decodes the frame at `offset` into a plain object independent of `bytes`,
   * its fields in declaration order (see {@linkcode Message}). Without
   * `offset`, `bytes` must hold exactly one frame.
   *
   * Byte fields are copies, carved from shared 64 KiB chunks to avoid an
   * ArrayBuffer per message: their `.buffer` is shared with other decoded
   * messages. Copy one (`field.slice()`) before transferring its buffer.
   *
   * @throws {CodecError} for any malformed frame, with the byte offset.
   */
  decode(bytes: Uint8Array, offset?: number): Infer<F> {
    return this.#code.decode(bytes, viewOf(bytes), offset ?? 0, offset === undefined) as Infer<F>;
  }

  /**
   * A zero-copy view of the frame at `offset`: fields are read on access.
   * Structure is checked now; a string's UTF-8 and a bool's byte when read.
   * Without `offset`, `bytes` must hold exactly one frame.
   *
   * @throws {CodecError} for any malformed frame, with the byte offset.
   */
  view(bytes: Uint8Array, offset?: number): MessageView<F> {
    return this.#code.view(bytes, viewOf(bytes), offset ?? 0, offset === undefined) as MessageView<
      F
    >;
  }

  /** Whether `value` is a view of this type (narrows its type). */
  isView(value: unknown): value is MessageView<F> {
    return typeof value === "object" && value !== null &&
      (value as { type?: unknown }).type === this;
  }

  /**
   * Encodes at offset `p` of `u8`, with `dv` a DataView over exactly `u8`;
   * returns the frame's end. Skips the offset check and the DataView lookup
   * of {@linkcode encode}: for callers that keep one view per buffer (a link's
   * write slabs). Values are validated as by `encode`.
   * Internal fast path.
   * @internal
   */
  _encode(message: unknown, u8: Uint8Array, dv: DataView, p: number): number {
    return this.#code.encode(message, u8, dv, p);
  }

  /**
   * Decodes or views a frame whose header was already checked (by a
   * {@linkcode Registry} or `FrameSplitter`); `end` is the frame's end.
   * Internal fast path.
   * @internal
   */
  _read(u8: Uint8Array, dv: DataView, p: number, end: number, asView: boolean): unknown {
    const f = dv.getUint16(p + HEADER_OFFSET.fixedLength, true);
    return asView
      ? this.#code.viewBody(u8, dv, p, end, f)
      : this.#code.decodeBody(u8, dv, p, end, f);
  }
}

/**
 * Declares a message type.
 *
 * @example Declaring the seeds' V2Swap and round-tripping one
 * ```ts
 * import { defineMessage, field, type MessageOf } from "../../mod.ts";
 *
 * const V2Swap = defineMessage({
 *   id: 19,
 *   name: "V2Swap",
 *   topic: "market_data",
 *   fields: {
 *     poolAddress: field.bytes(20),
 *     token0: field.bytes(20),
 *     token1: field.bytes(20),
 *     amountIn: field.bytes(32),
 *     amountOut: field.bytes(32),
 *     timestampNs: field.u64(),
 *   },
 * });
 * type V2Swap = MessageOf<typeof V2Swap>;
 *
 * const swap: V2Swap = {
 *   poolAddress: new Uint8Array(20).fill(1),
 *   token0: new Uint8Array(20).fill(2),
 *   token1: new Uint8Array(20).fill(3),
 *   amountIn: new Uint8Array(32),
 *   amountOut: new Uint8Array(32),
 *   timestampNs: 1_700_000_000_000_000_000n,
 * };
 * const slab = new Uint8Array(4096);
 * const end = V2Swap.encode(swap, slab);       // 12-byte header + 132-byte body
 * const view = V2Swap.view(slab, 0);           // zero-copy
 * if (end !== 144 || view.timestampNs !== swap.timestampNs) throw new Error("round trip");
 * ```
 *
 * @throws {CodecError} `CODEC_INVALID_SCHEMA` for a bad id, name, topic or field.
 */
export function defineMessage<const F extends Fields>(
  options: MessageTypeOptions<F>,
): MessageType<F> {
  const { id, name, topic, fields } = options;
  const fail = (why: string, field?: string): never => {
    throw new CodecError("CODEC_INVALID_SCHEMA", `message type '${String(name)}': ${why}`, {
      ...(field === undefined ? {} : { field }),
    });
  };
  if (!isUserTypeId(id)) fail(`id must be an integer from 1 to 65279 (0xFEFF), got ${id}`);
  if (typeof name !== "string" || name.length === 0) fail("name must be a non-empty string");
  if (!TYPE_NAME.test(name) || name.length > MAX_TYPE_NAME_LENGTH) {
    fail(
      `name must start with an ASCII letter or '_' and hold only letters, digits, '_' and '.', ` +
        `at most ${MAX_TYPE_NAME_LENGTH} characters (links and fingerprints depend on it); ` +
        `e.g. ${JSON.stringify(suggestName(name))}`,
    );
  }
  if (topic !== undefined && (typeof topic !== "string" || topic.length === 0)) {
    fail("topic must be a non-empty string");
  }
  if (topic !== undefined && CONTROL_CHAR.test(topic)) {
    fail(`topic ${JSON.stringify(topic)} must not hold control characters such as line breaks`);
  }
  if (typeof fields !== "object" || fields === null) fail("fields must be an object");
  let fixedSize = 0;
  for (const [key, f] of Object.entries(fields)) {
    if (!IDENTIFIER.test(key) || RESERVED_FIELD_NAMES.has(key)) {
      fail(
        `field name '${key}' must be a plain identifier other than ${
          [...RESERVED_FIELD_NAMES].join(", ")
        }`,
        key,
      );
    }
    // Plain JavaScript callers can pass `field.u8` uncalled or a hand-made
    // descriptor; either would give a layout the generated code misreads.
    if (typeof f !== "object" || f === null) {
      fail(`field '${key}' must be a descriptor from field.*(), e.g. field.u8()`, key);
    }
    if (f.kind === "bytes") {
      if (!(Number.isInteger(f.size) && f.size >= 1 && f.size <= MAX_FIXED_BYTES)) {
        fail(`field '${key}': bytes(n) needs n from 1 to ${MAX_FIXED_BYTES}, got ${f.size}`, key);
      }
    } else if (!Object.hasOwn(KIND_SIZE, f.kind) || KIND_SIZE[f.kind] !== f.size) {
      fail(
        `field '${key}' has an unknown kind or size (${String(f.kind)}, ${String(f.size)})`,
        key,
      );
    }
    if (!isVariable(f.kind)) fixedSize += f.size;
  }
  if (fixedSize > 0xffff) fail(`fixed fields take ${fixedSize} bytes; the limit is 65535`);
  return new MessageType(options);
}

/** A name that passes the rules, close to `name` (for the error's fix). */
function suggestName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.]+/g, "_").slice(0, MAX_TYPE_NAME_LENGTH);
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`.slice(0, MAX_TYPE_NAME_LENGTH);
}

/**
 * FNV-1a 64 over the UTF-8 of `id|name|key:kind:size|…`. The names allowed
 * contain neither `|` nor `:`, so the text can be split back into exactly
 * one schema: two different schemas never share a text.
 */
function fingerprint(options: MessageTypeOptions<Fields>): string {
  const parts = [`${options.id}`, options.name];
  for (const [key, f] of Object.entries(options.fields)) parts.push(`${key}:${f.kind}:${f.size}`);
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(parts.join("|"))) {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  }
  return h.toString(16).padStart(16, "0");
}
