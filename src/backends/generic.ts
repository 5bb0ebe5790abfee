// The generic backend: any HTTP/WebSocket app whose rooms are found in the path by `backend.roomPath`.
// The room part is canonicalised like Jitsi does; a non-canonical spelling is redirected to the
// canonical path so the upstream only ever opens the room the policy judged.
import type { Backend, RoomLookup } from './backend.js';
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

  roomOf(rawPath: string): RoomLookup {
    const match = this.#roomPath.exec(rawPath);
    const raw = match?.groups?.room;
    // `/ROOMS/board` must not slip past as "not a room" to an upstream that routes without regard to case.
    if (!match || raw === undefined) return this.#roomPathAnyCase.test(rawPath) ? { kind: 'invalid' } : { kind: 'none' };
    const room = canonicalRoom(raw);
    if (room === undefined) return { kind: 'invalid' };
    if (room === raw) return { kind: 'room', room };
    const span = this.#roomPathIndices.exec(rawPath)?.indices?.groups?.room;
    if (!span) return { kind: 'invalid' };
    return { kind: 'room', room, canonicalPath: rawPath.slice(0, span[0]) + room + rawPath.slice(span[1]) };
  }
}
