// The generic backend: any HTTP/WebSocket app whose rooms are found in the path by `backend.roomPath`.
// The room part is canonicalised like Jitsi does; a non-canonical spelling is redirected to the
// canonical path so the upstream only ever opens the room the policy judged.
import type { Backend, RoomLookup } from './backend.js';
import type { RequestPath } from './request-path.js';
import { canonicalRoom } from './room-name.js';

export class GenericBackend implements Backend {
  readonly type = 'generic';
  readonly reservedRooms: readonly string[] = [];
  readonly #roomPath: RegExp;
  /** The same pattern with match indices (flag d, slower): only for rewriting a non-canonical spelling. */
  readonly #roomPathIndices: RegExp;
  /** The same pattern without regard to case: a path it matches but roomPath does not is a case variant of a room path. */
  readonly #roomPathAnyCase: RegExp;

  constructor(roomPath: string) {
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
}
