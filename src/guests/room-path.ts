// The room a guest page's URL names (`room` or `tenant/room`), canonicalised. Where the room lives on the
// backend is the backend's own answer (Backend.pathOf), checked with its roomOf().
import { canonicalRoom } from '../backends/room-name.js';

/** The canonical room for the segments of a page URL (`room` or `tenant/room`), or undefined. */
export function roomFromSegments(segments: readonly string[]): string | undefined {
  if (segments.length < 1 || segments.length > 2) return undefined;
  const canonical = segments.map((s) => canonicalRoom(s));
  if (canonical.some((s) => s === undefined)) return undefined;
  return canonical.join('/');
}
