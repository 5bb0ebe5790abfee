// The generic backend: any HTTP/WebSocket app whose rooms are found in the path by `backend.roomPath`.
// The room part is canonicalised like Jitsi does; a non-canonical spelling is redirected to the
// canonical path so the upstream only ever opens the room the policy judged. Entry needs no backend
// credential: the app gets the signed identity headers (with the room) on every request.
import { firstPathOpening, type Backend, type Entry, type RoomLookup, type SignallingVerdict } from './backend.js';
import type { RequestPath } from './request-path.js';
import { canonicalRoom } from './room-name.js';

export class GenericBackend implements Backend {
  readonly type = 'generic';
  readonly reservedRooms: readonly string[] = [];
  readonly guestsUseOwnPaths = false;
  readonly #pattern: string;
  readonly #roomPath: RegExp;
  /** The same pattern with match indices (flag d, slower): only for rewriting a non-canonical spelling. */
  readonly #roomPathIndices: RegExp;
  /** The same pattern without regard to case: a path it matches but roomPath does not is a case variant of a room path. */
  readonly #roomPathAnyCase: RegExp;

  constructor(roomPath: string) {
    this.#pattern = roomPath;
    this.#roomPath = new RegExp(roomPath);
    this.#roomPathIndices = new RegExp(roomPath, 'd');
    this.#roomPathAnyCase = new RegExp(roomPath, 'i');
    if (!this.#roomPath.source.includes('(?<room>')) throw new Error('roomPath needs a named group (?<room>…)');
  }

  roomOf(path: RequestPath): RoomLookup {
    const rawPath = path.raw;
    const match = this.#roomPath.exec(rawPath);
    const raw = match?.groups?.room;
    // The pattern reads the path as sent; an upstream that decodes escapes routes by the decoded path.
    // Both readings must agree on whether this is a room and on which one.
    const decodedRoom = path.decoded === rawPath ? raw : this.#roomPath.exec(path.decoded)?.groups?.room;
    if (!match || raw === undefined) {
      // `/ROOMS/board` must not slip past as "not a room" to an upstream that routes without regard to case.
      const lookalike = decodedRoom !== undefined || this.#roomPathAnyCase.test(rawPath) || this.#roomPathAnyCase.test(path.decoded);
      return lookalike ? { kind: 'invalid' } : { kind: 'none' };
    }
    const room = canonicalRoom(raw);
    if (room === undefined) return { kind: 'invalid' };
    if (decodedRoom === undefined || (decodedRoom !== raw && canonicalRoom(encodeURIComponent(decodedRoom)) !== room)) return { kind: 'invalid' };
    if (room === raw) return { kind: 'room', room };
    const span = this.#roomPathIndices.exec(rawPath)?.indices?.groups?.room;
    if (!span) return { kind: 'invalid' };
    return { kind: 'room', room, canonicalPath: rawPath.slice(0, span[0]) + room + rawPath.slice(span[1]) };
  }

  /**
   * The path from the `roomPath` expression: the `room` group replaced by the room, optional tails
   * (`(?:/.*)?`, `/?`) dropped; whatever comes out must read back as the room.
   */
  pathOf(room: string): string | undefined {
    return firstPathOpening(this, room, roomPathCandidates(this.#pattern, room));
  }

  async enter(): Promise<Entry> {
    return { kind: 'pass' };
  }

  async signalling(): Promise<SignallingVerdict> {
    // roomOf never names a signalling request of this backend.
    return { kind: 'refuse', code: 'RG_BACKEND_API_REFUSED' };
  }
}

function roomPathCandidates(pattern: string, room: string): string[] {
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
  const path = `${strip(pattern.slice(0, start))}${room}${strip(pattern.slice(end + 1))}`;
  // Anything still looking like regular-expression syntax means the guess failed.
  return /[()[\]{}*+?|^$\\]/.test(path) ? [] : [path];
}
