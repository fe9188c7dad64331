import { CodecError } from "./codec_error.ts";
import type { Fields } from "./field.ts";
import type { MessageType, MessageView } from "./message_type.ts";
import {
  checkHeader,
  checkSizeOption,
  DEFAULT_MAX_FRAME_SIZE,
  HEADER_OFFSET,
  HEADER_SIZE,
  requireBytes,
  viewOf,
} from "./wire.ts";

/** Options of {@linkcode Registry}. */
export interface RegistryOptions {
  /** Largest frame body accepted, in bytes. Default: 16 MiB. */
  maxFrameSize?: number;
}

/** A frame decoded by a {@linkcode Registry}: its type and a plain message. */
export interface DecodedMessage {
  /** The message type the frame's type id names. */
  readonly type: MessageType;
  /** The message, as a plain object that owns its bytes. */
  readonly message: Record<string, unknown>;
}

/**
 * The message types one process knows, by id: decodes frames of any of them.
 *
 * @example
 * ```ts
 * import { defineMessage, field, Registry } from "../../mod.ts";
 * const Ping = defineMessage({ id: 1, name: "Ping", fields: { seq: field.u32() } });
 * const registry = new Registry([Ping]);
 * const { type, message } = registry.decode(Ping.toBytes({ seq: 7 }));
 * if (type !== Ping || message.seq !== 7) throw new Error("round trip");
 * ```
 */
export class Registry implements Iterable<MessageType> {
  /** Largest frame body accepted, in bytes. */
  readonly maxFrameSize: number;
  readonly #byId: (MessageType | undefined)[] = [];
  readonly #byName = new Map<string, MessageType>();

  /**
   * Creates a registry holding `types`.
   * @throws {CodecError} `CODEC_DUPLICATE_TYPE` when two types share an id or a name;
   * `CODEC_INVALID_VALUE` when `maxFrameSize` is not an integer from 0 to 2^32 - 1.
   */
  constructor(types: Iterable<MessageType> = [], options: RegistryOptions = {}) {
    this.maxFrameSize = checkSizeOption(
      "maxFrameSize",
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      0,
    );
    for (const t of types) this.add(t);
  }

  /**
   * Adds a type. Adding the same type object again is a no-op.
   * @throws {CodecError} `CODEC_DUPLICATE_TYPE` naming both types.
   */
  add(type: MessageType): this {
    const same = this.#byId[type.id];
    if (same === type) return this;
    if (same !== undefined) {
      throw new CodecError(
        "CODEC_DUPLICATE_TYPE",
        `type id ${type.id} is used by both '${same.name}' and '${type.name}'; give one another id`,
      );
    }
    const named = this.#byName.get(type.name);
    if (named !== undefined) {
      throw new CodecError(
        "CODEC_DUPLICATE_TYPE",
        `type name '${type.name}' is used by ids ${named.id} and ${type.id}; rename one`,
      );
    }
    this.#byId[type.id] = type;
    this.#byName.set(type.name, type);
    return this;
  }

  /** The type with this id, if registered. */
  get(id: number): MessageType | undefined {
    return this.#byId[id];
  }

  /** The type with this name, if registered. */
  byName(name: string): MessageType | undefined {
    return this.#byName.get(name);
  }

  /** Registered types, in order of addition. */
  [Symbol.iterator](): Iterator<MessageType> {
    return this.#byName.values();
  }

  /**
   * Decodes the frame at `offset` into a plain message. Without `offset`,
   * `bytes` must hold exactly one frame.
   * @throws {CodecError} for malformed frames and unknown type ids.
   */
  decode(bytes: Uint8Array, offset?: number): DecodedMessage {
    const dv = viewOf(bytes);
    const [type, p, end] = this.#check(bytes, dv, offset);
    return { type, message: type._read(bytes, dv, p, end, false) as Record<string, unknown> };
  }

  /**
   * A zero-copy view of the frame at `offset`, whatever its type; narrow it
   * with `SomeType.isView(view)`.
   * @throws {CodecError} for malformed frames and unknown type ids.
   */
  view(bytes: Uint8Array, offset?: number): MessageView<Fields> {
    const dv = viewOf(bytes);
    const [type, p, end] = this.#check(bytes, dv, offset);
    return type._read(bytes, dv, p, end, true) as MessageView<Fields>;
  }

  /**
   * Views a frame that a `FrameSplitter` already delimited and checked: only
   * the type id is looked up. `dv` must cover exactly `bytes`.
   * @throws {CodecError} `CODEC_UNKNOWN_TYPE`, or a malformed variable section.
   */
  viewChecked(bytes: Uint8Array, dv: DataView, offset: number): MessageView<Fields> {
    const type = this.#type(dv, offset);
    const end = offset + HEADER_SIZE + dv.getUint32(offset + HEADER_OFFSET.bodyLength, true);
    return type._read(bytes, dv, offset, end, true) as MessageView<Fields>;
  }

  #type(dv: DataView, p: number): MessageType {
    const id = dv.getUint16(p + HEADER_OFFSET.typeId, true);
    const type = this.#byId[id];
    if (type === undefined) {
      throw new CodecError("CODEC_UNKNOWN_TYPE", `frame at byte ${p} has unknown type id ${id}`, {
        offset: p + HEADER_OFFSET.typeId,
      });
    }
    return type;
  }

  #check(
    bytes: Uint8Array,
    dv: DataView,
    offset: number | undefined,
  ): [MessageType, number, number] {
    const p = offset ?? 0;
    if (!Number.isInteger(p) || p < 0) {
      throw new CodecError(
        "CODEC_INVALID_VALUE",
        `offset must be a non-negative integer, got ${p}`,
      );
    }
    requireBytes(p, HEADER_SIZE, bytes.length, "frame header");
    const length = checkHeader(bytes, dv, p, this.maxFrameSize);
    const type = this.#type(dv, p);
    requireBytes(p, length, bytes.length, `${type.name} frame`);
    if (offset === undefined && length !== bytes.length) {
      throw new CodecError(
        "CODEC_TRAILING_BYTES",
        `${bytes.length - length} bytes follow the frame that ends at byte ${length}`,
        { offset: length },
      );
    }
    return [type, p, p + length];
  }
}
