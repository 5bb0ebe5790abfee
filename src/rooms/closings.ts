// The end of a time-boxed room at its close (end of the window plus closeGrace) at the backend itself,
// where the backend can end a meeting (BBB's `end`): its own connections do not pass roomguard with the
// room named, so closing the gateway's WebSockets is not enough there. Every instance that admitted
// someone to such a room watches its close; the first to reach it ends the meeting (a store marker makes
// it once), and the step is audited.
import type { Store } from '../store/store.js';

/** Checked this often for rooms whose close has come. */
const CHECK_MS = 1000;
/** The once-marker lives long after any close it could be asked about again. */
const ENDED_TTL_MS = 2 * 86_400_000;

export interface ScheduleClosingsDeps {
  store: Store;
  /** The backend's own end of a meeting; resolves to what it said (for the audit record). */
  end: (room: string) => Promise<string>;
  /** Records the end (an audit event); failures there are the recorder's to log. */
  recorded: (room: string, details: Record<string, string | boolean>) => void;
  now: () => number;
}

export class ScheduleClosings {
  readonly #deps: ScheduleClosingsDeps;
  /** room → the close this instance saw in an admission (the latest). */
  readonly #watched = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(deps: ScheduleClosingsDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => void this.#endDue(), CHECK_MS);
    this.#timer.unref();
  }

  /** An admission to a time-boxed room that closes at `closesAt`. */
  watch(room: string, closesAt: number): void {
    if ((this.#watched.get(room) ?? 0) < closesAt) this.#watched.set(room, closesAt);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #endDue(): Promise<void> {
    const now = this.#deps.now();
    for (const [room, closesAt] of [...this.#watched]) {
      if (closesAt > now) continue;
      this.#watched.delete(room);
      try {
        if (!(await this.#deps.store.add(`room:closed:${room}:${closesAt}`, '1', ENDED_TTL_MS))) continue;
        let backendEnd: string;
        try {
          backendEnd = await this.#deps.end(room);
        } catch (err) {
          backendEnd = `failed: ${(err as Error).message}`.slice(0, 200);
        }
        this.#deps.recorded(room, { everyone: true, by: 'schedule', closedAt: new Date(closesAt).toISOString(), backendEnd });
      } catch {
        // Store unreachable: watched again at the next admission; the gate refuses the room meanwhile.
      }
    }
  }
}
