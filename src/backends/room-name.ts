// Canonical room names, computed exactly as Jitsi Meet's getBackendSafeRoomName does
// (react/features/base/util/uri.ts): decode, NFKC, lowercase, encode, lowercase. The policy judges
// this name and the backend opens this name (DESIGN invariant 2). Pure; no I/O.
import { LRUCache } from 'lru-cache';

/** Characters Jitsi strips from room names (_ROOM_EXCLUDE_PATTERN). */
const JITSI_EXCLUDED = /[:?#[\]@!$&'()*+,;=></"]/g;
const MAX_ROOM_LENGTH = 200;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Jitsi's getBackendSafeRoomName. */
export function backendSafeRoomName(raw: string): string {
  let room = safeDecode(raw);
  room = room.normalize('NFKC');
  room = room.toLowerCase();
  room = encodeURIComponent(room);
  return room.toLowerCase();
}

/**
 * The canonical room for a raw (percent-encoded) path segment, or undefined when the segment cannot
 * name a room: empty, a dot segment, control characters, an encoded slash or backslash, or too long.
 */
export function canonicalRoom(rawSegment: string): string | undefined {
  // Every request inside a room asks for the same few names: remember the answers (it is a pure function).
  if (rawSegment.length > MEMO_MAX_LENGTH) return computeCanonicalRoom(rawSegment);
  const known = memo.get(rawSegment);
  if (known !== undefined) return known === NOT_A_ROOM ? undefined : known;
  const room = computeCanonicalRoom(rawSegment);
  memo.set(rawSegment, room ?? NOT_A_ROOM);
  return room;
}

const MEMO_MAX_LENGTH = 256;
/** Remembered for a segment that names no room (a canonical room is never empty). */
const NOT_A_ROOM = '';
const memo = new LRUCache<string, string>({ max: 10_000 });

function computeCanonicalRoom(rawSegment: string): string | undefined {
  const decoded = safeDecode(rawSegment).normalize('NFKC');
  if (decoded === '' || decoded === '.' || decoded === '..') return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/\\]/.test(decoded)) return undefined;
  if (decoded.replace(JITSI_EXCLUDED, '') !== decoded) return undefined;
  const canonical = backendSafeRoomName(rawSegment);
  if (canonical.length > MAX_ROOM_LENGTH) return undefined;
  return canonical;
}
