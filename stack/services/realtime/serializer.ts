// Phoenix channel frames as realtime-js speaks them. vsn 1.0.0: JSON objects.
// vsn 2.0.0: JSON arrays [join_ref, ref, topic, event, payload], plus binary
// broadcast frames (kind 3 "user broadcast push" from clients, kind 4 "user
// broadcast" to clients) that carry the user payload without re-encoding it.

export type Vsn = '1.0.0' | '2.0.0';

export interface Frame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: any;
}

/** A broadcast as it travels between sockets: the user payload stays encoded. */
export interface UserBroadcast {
  event: string;
  /** JSON text of the user payload, or raw bytes for binary payloads. */
  body: string | Buffer;
  meta?: Record<string, unknown>;
}

export class FrameError extends Error {}

const KIND_PUSH = 3;
const KIND_BROADCAST = 4;
const ENCODING_BINARY = 0;
const ENCODING_JSON = 1;

const optionalString = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function decodeText(text: string, vsn: Vsn): Frame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FrameError('frame is not valid JSON');
  }
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5) throw new FrameError('a 2.0.0 frame is an array [join_ref, ref, topic, event, payload]');
    const [joinRef, ref, topic, event, payload] = parsed;
    if (typeof topic !== 'string' || typeof event !== 'string') throw new FrameError('topic and event must be strings');
    return { joinRef: optionalString(joinRef), ref: optionalString(ref), topic, event, payload: payload ?? {} };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FrameError('a 1.0.0 frame is an object {topic, event, payload, ref}');
  const o = parsed as Record<string, unknown>;
  if (typeof o.topic !== 'string' || typeof o.event !== 'string') throw new FrameError('topic and event must be strings');
  return { joinRef: optionalString(o.join_ref), ref: optionalString(o.ref), topic: o.topic, event: o.event, payload: o.payload ?? {} };
}

/** Decodes a binary "user broadcast push" (the only binary frame clients send). */
export function decodeBinary(buf: Buffer): { frame: Frame; broadcast: UserBroadcast } {
  if (buf.length < 7 || buf[0] !== KIND_PUSH) throw new FrameError('unknown binary frame kind');
  const lengths = [buf[1], buf[2], buf[3], buf[4], buf[5]];
  const encoding = buf[6];
  let offset = 7;
  const parts = lengths.map((n) => {
    if (offset + n > buf.length) throw new FrameError('binary frame is truncated');
    const s = buf.toString('utf8', offset, offset + n);
    offset += n;
    return s;
  });
  const [joinRef, ref, topic, event, metadata] = parts;
  const rest = buf.subarray(offset);
  // Current clients put send options (e.g. `persist`) here; Realtime decodes the
  // metadata and forwards none of it to receivers.
  if (metadata) {
    try {
      JSON.parse(metadata);
    } catch {
      throw new FrameError('binary frame metadata is not JSON');
    }
  }
  let body: string | Buffer;
  if (encoding === ENCODING_JSON) {
    body = rest.toString('utf8');
    try {
      JSON.parse(body);
    } catch {
      throw new FrameError('binary frame payload is not JSON');
    }
  } else if (encoding === ENCODING_BINARY) body = Buffer.from(rest);
  else throw new FrameError('unknown binary payload encoding');
  return {
    frame: { joinRef: joinRef || null, ref: ref || null, topic, event: 'broadcast', payload: { type: 'broadcast', event } },
    broadcast: { event, body },
  };
}

export function encode(frame: Frame, vsn: Vsn): string {
  if (vsn === '2.0.0') return JSON.stringify([frame.joinRef, frame.ref, frame.topic, frame.event, frame.payload]);
  return JSON.stringify({ topic: frame.topic, event: frame.event, payload: frame.payload, ref: frame.ref, join_ref: frame.joinRef });
}

/**
 * A broadcast to one client: a kind 4 binary frame for 2.0.0, JSON for 1.0.0.
 * Null for a binary payload to a 1.0.0 client, which Realtime does not deliver
 * (it cannot convert it to JSON).
 */
export function encodeBroadcast(topic: string, b: UserBroadcast, vsn: Vsn): string | Buffer | null {
  if (vsn === '1.0.0') {
    if (typeof b.body !== 'string') return null;
    const payload: Record<string, unknown> = { type: 'broadcast', event: b.event, payload: JSON.parse(b.body) };
    if (b.meta) payload.meta = b.meta;
    return encode({ joinRef: null, ref: null, topic, event: 'broadcast', payload }, vsn);
  }
  const topicBytes = Buffer.from(topic);
  const eventBytes = Buffer.from(b.event);
  const metaBytes = Buffer.from(b.meta ? JSON.stringify(b.meta) : '');
  if (topicBytes.length > 255 || eventBytes.length > 255 || metaBytes.length > 255) {
    // The binary header has one byte per length; fall back to a JSON frame.
    return encode({ joinRef: null, ref: null, topic, event: 'broadcast', payload: { type: 'broadcast', event: b.event, payload: typeof b.body === 'string' ? JSON.parse(b.body) : {}, ...(b.meta ? { meta: b.meta } : {}) } }, vsn);
  }
  const body = typeof b.body === 'string' ? Buffer.from(b.body) : b.body;
  const header = Buffer.from([KIND_BROADCAST, topicBytes.length, eventBytes.length, metaBytes.length, typeof b.body === 'string' ? ENCODING_JSON : ENCODING_BINARY]);
  return Buffer.concat([header, topicBytes, eventBytes, metaBytes, body]);
}

/** The byte size of a broadcast's user payload, for the payload limit. */
export function broadcastSize(b: UserBroadcast): number {
  return typeof b.body === 'string' ? Buffer.byteLength(b.body) : b.body.length;
}
