// The end of a time-boxed room at its close (end of the window plus closeGrace) at the backend itself,
// where the backend can end a meeting (BBB's `end`): its own connections do not pass roomguard with the
// room named, so closing the gateway's WebSockets is not enough there. Every instance that admitted
// someone to such a room notes it in the shared store; every instance watches those rooms and judges them
// under the policy it holds now (a reload that moves or removes a close applies at once, a restart forgets
// nothing). The first instance to find the room closed claims its end for a while and asks the backend;
// only a successful end is marked done (a failure is recorded and tried again once the claim lapses), and
// each step is audited.
import type { Store } from '../store/store.js';
import type { ScheduleState } from '../policy/schedule.js';

/** Checked this often for rooms whose close has come. */
const CHECK_MS = 1000;
/** The rooms to watch are read from the store every this many checks (other instances' admissions, restarts). */
const RELOAD_EVERY = 10;
/** The done-marker and the watch list live long after any close they could be asked about again. */
const ENDED_TTL_MS = 2 * 86_400_000;
/** An instance that claimed an end has this long to finish it; a failed end is tried again after it. */
export const END_CLAIM_MS = 30_000;
/** A backend that keeps failing is asked this often at most per close (each attempt is audited). */
const MAX_ATTEMPTS = 10;

const WATCH_KEY = 'room:closings';
const closeKey = (room: string) => `room:closes:${room}`;
const doneKey = (room: string, closesAt: string) => `room:closed:${room}:${closesAt}`;
const claimKey = (room: string, closesAt: string) => `room:closing:${room}:${closesAt}`;

export interface ScheduleClosingsDeps {
  store: Store;
  /** The backend's own end of a meeting; resolves to what it said (for the audit record). */
  end: (room: string) => Promise<string>;
  /** Records the end (an audit event); failures there are the recorder's to log. */
  recorded: (room: string, details: Record<string, string | boolean>) => void;
  /** The room's schedule under the policy in force now (undefined: no schedule, nothing to close). */
  stateOf: (room: string, now: number) => ScheduleState | undefined;
  now: () => number;
}

export class ScheduleClosings {
  readonly #deps: ScheduleClosingsDeps;
  /** Rooms watched here → the close last computed while open (0: not seen open here). */
  readonly #watched = new Map<string, number>();
  readonly #attempts = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #ticks = 0;
  #running = false;

  constructor(deps: ScheduleClosingsDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => void this.check(), CHECK_MS);
    this.#timer.unref();
  }

  /** An admission to a time-boxed room that closes at `closesAt` (as judged then; re-judged at every check). */
  watch(room: string, closesAt: number): void {
    if (!this.#watched.has(room)) this.#watched.set(room, 0);
    void this.#deps.store.addMember(WATCH_KEY, room, ENDED_TTL_MS).catch(() => undefined);
    void this.#noteClose(room, closesAt);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One check of every watched room (the timer's; tests call it directly). */
  async check(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      if (this.#ticks++ % RELOAD_EVERY === 0) await this.#reload();
      const now = this.#deps.now();
      for (const room of [...this.#watched.keys()]) {
        try {
          await this.#checkRoom(room, now);
        } catch {
          // Store unreachable: tried again at the next check; the gate refuses the room meanwhile.
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #reload(): Promise<void> {
    try {
      for (const room of await this.#deps.store.members(WATCH_KEY)) if (!this.#watched.has(room)) this.#watched.set(room, 0);
    } catch {
      // store unreachable: the rooms known here are still watched
    }
  }

  /** The close every instance agrees on: the latest written to the store while the room was open. */
  async #noteClose(room: string, closesAt: number): Promise<void> {
    if (this.#watched.get(room) === closesAt) return;
    this.#watched.set(room, closesAt);
    await this.#deps.store.set(closeKey(room), String(closesAt), ENDED_TTL_MS).catch(() => undefined);
  }

  async #checkRoom(room: string, now: number): Promise<void> {
    const state = this.#deps.stateOf(room, now);
    if (!state) {
      this.#watched.delete(room);
      return;
    }
    if (state.open) return this.#noteClose(room, state.closesAt);
    const closesAt = (await this.#deps.store.get(closeKey(room))) ?? String(this.#watched.get(room) ?? 0);
    if (closesAt === '0' || (await this.#deps.store.get(doneKey(room, closesAt))) !== null) {
      this.#watched.delete(room);
      return;
    }
    const attempt = `${room}|${closesAt}`;
    if ((this.#attempts.get(attempt) ?? 0) >= MAX_ATTEMPTS) return;
    if (!(await this.#deps.store.add(claimKey(room, closesAt), '1', END_CLAIM_MS))) return;
    this.#attempts.set(attempt, (this.#attempts.get(attempt) ?? 0) + 1);
    let backendEnd: string;
    let ended = true;
    try {
      backendEnd = await this.#deps.end(room);
    } catch (err) {
      backendEnd = `failed: ${(err as Error).message}`.slice(0, 200);
      ended = false;
    }
    if (ended) {
      await this.#deps.store.set(doneKey(room, closesAt), '1', ENDED_TTL_MS);
      this.#watched.delete(room);
      this.#attempts.delete(attempt);
    }
    this.#deps.recorded(room, { everyone: true, by: 'schedule', closedAt: new Date(Number(closesAt)).toISOString(), backendEnd });
  }
}
