// The steps of locking a room and evicting people, shared by `roomguard rooms …` and the moderator's
// page: the control in the store and on the bus, then — for everyone — the backend's own end of the
// meeting (BBB `end`) through the Backend interface. Each returns the details its audit record carries.
import type { Backend } from '../backends/backend.js';
import type { RoomControls } from './controls.js';

export type RoomAction = 'lock' | 'unlock' | 'evict';

/** What one step did, for its audit record (type, details) and for the person who asked. */
export interface RoomActionResult {
  type: 'room.locked' | 'room.unlocked' | 'room.evicted';
  details: Record<string, string | boolean>;
}

export async function lockRoom(controls: RoomControls, room: string, by: string): Promise<RoomActionResult> {
  await controls.lock(room, by);
  return { type: 'room.locked', details: { by } };
}

export async function unlockRoom(controls: RoomControls, room: string, by: string): Promise<RoomActionResult> {
  await controls.unlock(room);
  return { type: 'room.unlocked', details: { by } };
}

/**
 * Ends the admission of one person (`sub`) or of everyone in the room on every instance; for everyone
 * also at the backend itself where it has its own end (a failure there is recorded, not hidden).
 */
export async function evictFromRoom(controls: RoomControls, backend: Pick<Backend, 'end'>, room: string, target: { sub: string } | 'everyone', by: string): Promise<RoomActionResult> {
  const { invitation } = await controls.evict(room, target);
  const details: Record<string, string | boolean> = { by, ...(target === 'everyone' ? { everyone: true } : { user: target.sub }), ...(invitation !== undefined ? { invitation } : {}) };
  if (target === 'everyone' && backend.end) {
    try {
      details.backendEnd = await backend.end(room);
    } catch (err) {
      details.backendEnd = `failed: ${(err as Error).message}`.slice(0, 200);
    }
  }
  return { type: 'room.evicted', details };
}
