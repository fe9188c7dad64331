/**
 * The link layer's control frames, and the flag bits it defines on data
 * frames. Control frames use the type ids the codec reserves (0xFF01 to
 * 0xFF08), so they share the frame format, the splitter and the checks of user
 * messages.
 *
 * @module
 */
import { field, MessageType } from "../codec/mod.ts";
import { CONTROL_TYPE_ID } from "../codec/wire.ts";

/** The link protocol version carried in the handshake (the frame format has its own). */
export const LINK_PROTOCOL_VERSION = 1;

/** Data-frame flag: the frame just before this one is its envelope. */
export const FLAG_ROUTED = 0x0001;
/** Data-frame flag: the sender's buffer is filling; acknowledge soon. */
export const FLAG_ACK_REQUEST = 0x0002;

/** First frame each side sends: who it is and what it speaks. */
export const Hello = new MessageType({
  id: CONTROL_TYPE_ID.handshake,
  name: "mycelium.Hello",
  fields: {
    protocol: field.u16(),
    /** Random id of this link endpoint's life; a new one means the peer restarted. */
    bootId: field.f64(),
    maxFrameSize: field.u32(),
    nonce: field.bytes(32),
    identity: field.string(),
    /** One line per message type: `id name fingerprint`. */
    types: field.string(),
  },
});

/** Proof of the shared key, plus (from the dialer) where its receive stream stands. */
export const Auth = new MessageType({
  id: CONTROL_TYPE_ID.auth,
  name: "mycelium.Auth",
  fields: { received: field.f64(), ref: field.f64(), proof: field.varBytes() },
});

/** The acceptor's "you are in", with where its receive stream stands. */
export const Ready = new MessageType({
  id: CONTROL_TYPE_ID.handshakeAck,
  name: "mycelium.Ready",
  fields: { received: field.f64(), ref: field.f64() },
});

/** Liveness and acknowledgement: the count of data frames received so far. */
export const Heartbeat = new MessageType({
  id: CONTROL_TYPE_ID.heartbeat,
  name: "mycelium.Heartbeat",
  fields: { received: field.f64() },
});

/** Announce kinds. */
export const ANNOUNCE_NAMES = 0;
/** Announce kind: what the sender hosts (actors) and subscribes to (topics). */
export const ANNOUNCE_PRESENCE = 1;

/** Name definitions (`first` is the id of the first name) or presence. */
export const Announce = new MessageType({
  id: CONTROL_TYPE_ID.announce,
  name: "mycelium.Announce",
  fields: { kind: field.u8(), first: field.u32(), a: field.string(), b: field.string() },
});

/** Routing of the data frame that follows: kind, interned names, correlation. */
export const Envelope = new MessageType({
  id: CONTROL_TYPE_ID.envelope,
  name: "mycelium.Envelope",
  fields: { kind: field.u8(), to: field.u16(), from: field.u16(), correlation: field.u32() },
});

/** Frame size of an envelope. */
export const ENVELOPE_SIZE = 12 + Envelope.fixedSize;

/** Why the sender is about to close the link. */
export const ErrorFrame = new MessageType({
  id: CONTROL_TYPE_ID.error,
  name: "mycelium.Error",
  fields: { code: field.string(), message: field.string(), messageType: field.string() },
});

/** Orderly goodbye. */
export const Close = new MessageType({
  id: CONTROL_TYPE_ID.close,
  name: "mycelium.Close",
  fields: { reason: field.string() },
});
