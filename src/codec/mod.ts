/**
 * The Mycelium wire codec: message types, frames, registries and the stream
 * splitter. Knows nothing of actors or transports.
 *
 * @module
 */
export { CodecError } from "./codec_error.ts";
export type { CodecErrorCode, CodecErrorOptions } from "./codec_error.ts";
export { field, MAX_FIXED_BYTES } from "./field.ts";
export type { Field, FieldBuilders, FieldKind, Fields, FieldValue, Infer } from "./field.ts";
export { defineMessage, MessageType } from "./message_type.ts";
export type { Message, MessageOf, MessageTypeOptions, MessageView } from "./message_type.ts";
export { Registry } from "./registry.ts";
export type { DecodedMessage, RegistryOptions } from "./registry.ts";
export { DEFAULT_SLAB_SIZE, FrameSplitter } from "./frame_splitter.ts";
export type { FrameSplitterOptions } from "./frame_splitter.ts";
export {
  CONTROL_TYPE_ID,
  DEFAULT_MAX_FRAME_SIZE,
  FIRST_CONTROL_TYPE_ID,
  FRAME_MAGIC,
  HEADER_OFFSET,
  HEADER_SIZE,
  isUserTypeId,
  WIRE_VERSION,
} from "./wire.ts";
export type { ControlFrame, HeaderOffsets } from "./wire.ts";
