// Room lookups as the gateway makes them: the one path model first (request-path.ts), then the backend.
import type { Backend, RoomLookup } from '../../src/backends/backend.js';
import { readRequestPath, type PathRefusal, type RequestPath } from '../../src/backends/request-path.js';

export type Judged = RoomLookup | { kind: 'bad-path'; why: PathRefusal } | { kind: 'respelled'; plain: string };

/** What the gateway's lookup makes of a raw path: refused by the path model, respelled, or the backend's answer. */
export function lookupPath(backend: Backend, raw: string): Judged {
  const reading = readRequestPath(raw);
  if (reading.kind === 'refused') return { kind: 'bad-path', why: reading.why };
  if (reading.kind === 'respelled') return { kind: 'respelled', plain: reading.path.raw };
  return backend.roomOf(reading.path);
}

/** A path the model accepts as it is (throws otherwise): for tests of a backend's own rules. */
export function cleanPath(raw: string): RequestPath {
  const reading = readRequestPath(raw);
  if (reading.kind !== 'path') throw new Error(`${raw} is not a clean path: ${JSON.stringify(reading)}`);
  return reading.path;
}
