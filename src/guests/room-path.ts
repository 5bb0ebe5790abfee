// Where a room lives on the backend, for the link a guest is sent to after the name form. Each candidate
// path is checked with the backend's own roomOf(), so a guest only ever lands on the canonical path of
// the very room the invitation names (DESIGN invariant 2).
import type { Backend } from '../backends/backend.js';
import { canonicalRoom } from '../backends/room-name.js';
import { readRequestPath } from '../backends/request-path.js';

/** The canonical room for the segments of a page URL (`room` or `tenant/room`), or undefined. */
export function roomFromSegments(segments: readonly string[]): string | undefined {
  if (segments.length < 1 || segments.length > 2) return undefined;
  const canonical = segments.map((s) => canonicalRoom(s));
  if (canonical.some((s) => s === undefined)) return undefined;
  return canonical.join('/');
}

/**
 * The request path that opens `room` on this backend, or undefined when none can be found. The generic
 * backend's path comes from its `roomPath` expression: the `room` group is replaced by the room and
 * optional tails (`(?:/.*)?`, `/?`) are dropped; whatever comes out must pass roomOf() unchanged.
 */
export function roomPathOf(backend: Backend, room: string, roomPathPattern: string): string | undefined {
  const candidates = backend.type === 'jitsi' ? [`/${room}`] : backend.type === 'bbb' ? [`/rooms/${room}`] : genericCandidates(roomPathPattern, room);
  for (const path of candidates) {
    const reading = readRequestPath(path);
    if (reading.kind !== 'path') continue;
    const lookup = backend.roomOf(reading.path);
    if (lookup.kind === 'room' && lookup.room === room && lookup.canonicalPath === undefined) return path;
  }
  return undefined;
}

function genericCandidates(pattern: string, room: string): string[] {
  const start = pattern.indexOf('(?<room>');
  if (start === -1) return [];
  let depth = 0;
  let end = -1;
  for (let i = start; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) {
      end = i;
      break;
    }
  }
  if (end === -1) return [];
  const strip = (part: string) => part.replace(/^\^/, '').replace(/\$$/, '').replace(/\(\?:[^()]*\)[?*]/g, '').replace(/\/\?/g, '').replace(/\\\//g, '/');
  const before = strip(pattern.slice(0, start));
  const after = strip(pattern.slice(end + 1));
  const path = `${before}${room}${after}`;
  // Anything still looking like regular-expression syntax means the guess failed.
  return /[()[\]{}*+?|^$\\]/.test(path) ? [] : [path];
}
