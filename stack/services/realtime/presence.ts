// Presence per topic, as Phoenix.Presence keeps it: each tracked channel has a
// key and one meta (the tracked payload plus a unique `phx_ref`). Changes go
// out as `presence_diff` ({joins, leaves}); joiners get `presence_state`.

export interface Meta {
  phx_ref: string;
  phx_ref_prev?: string;
  [field: string]: unknown;
}
export type PresenceMap = Record<string, { metas: Meta[] }>;
export interface PresenceDiff {
  joins: PresenceMap;
  leaves: PresenceMap;
}

interface Entry {
  key: string;
  meta: Meta;
}

let refCounter = 0;
const nextRef = () => `F${Date.now().toString(36)}${(refCounter++).toString(36)}`;

/** Tracks presences of one topic; `owner` is the channel (one meta per owner). */
export class TopicPresence {
  private entries = new Map<object, Entry>();

  get size(): number {
    return this.entries.size;
  }

  state(): PresenceMap {
    const out: PresenceMap = {};
    for (const { key, meta } of this.entries.values()) (out[key] ??= { metas: [] }).metas.push(meta);
    return out;
  }

  track(owner: object, key: string, payload: Record<string, unknown>): PresenceDiff {
    const previous = this.entries.get(owner);
    const meta: Meta = { ...payload, phx_ref: nextRef() };
    if (previous) meta.phx_ref_prev = previous.meta.phx_ref;
    this.entries.set(owner, { key, meta });
    const diff: PresenceDiff = { joins: { [key]: { metas: [meta] } }, leaves: {} };
    if (previous) diff.leaves[previous.key] = { metas: [previous.meta] };
    return diff;
  }

  /** Removes the owner's presence; null when it had none. */
  untrack(owner: object): PresenceDiff | null {
    const previous = this.entries.get(owner);
    if (!previous) return null;
    this.entries.delete(owner);
    return { joins: {}, leaves: { [previous.key]: { metas: [previous.meta] } } };
  }
}
