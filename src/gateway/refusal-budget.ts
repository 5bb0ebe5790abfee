// Best-effort refusal records (a login callback no login waits for, an unknown invitation link, a guest
// asking for the account page, a refused signalling request, a denied room …) are written to the audit
// log one by one only up to a budget per actor and minute, and per pool and minute. Beyond it they are
// counted, and each minute one `audit.summary` record per pool and kind of refusal says how many there
// were and from how many actors. So no actor — anonymous, or holding a session, however cheaply got — can
// fill the audit disk (a full disk refuses every join) or bury the log in copies, and no refusal goes
// unaccounted.
//
// The actor is the session when the request has one, else the client network. The pools keep apart
// actors that cost an attacker very different amounts: a flood of anonymous requests, or of guests (an
// invitation link away), cannot use up the records of signed-in people's refusals.

/** Who is refused, as the budget counts them: a session, or for requests without one a client network. */
export type RefusalPool = 'anonymous' | 'guest' | 'signed-in';

export interface RefusedActor {
  pool: RefusalPool;
  /** A session hash, or a client network (IPv4 /24, IPv6 /48) in the anonymous pool. */
  id: string;
}

/** Records per actor (one session, or one client network) and minute; then only counted. */
export const PER_ACTOR = 20;
/** Records of one pool per minute, whatever the actors; then only counted. */
export const PER_POOL = 300;
export const WINDOW_MS = 60_000;
/** The count of distinct actors in a summary is exact up to this many per pool and kind (memory bound). */
const ACTORS_COUNTED = 100_000;

export interface RefusalCount {
  pool: RefusalPool;
  kind: string;
  count: number;
  /** How many sessions (or client networks, in the anonymous pool) the counted refusals came from. */
  actors: number;
}

/** The network a client address belongs to, as the budget counts it. */
export function clientNetwork(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.0/24`;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const groups = [...head.split(':').filter(Boolean), ...Array(Math.max(0, 8 - head.split(':').filter(Boolean).length - tail.split(':').filter(Boolean).length)).fill('0'), ...tail.split(':').filter(Boolean)];
  return `${groups.slice(0, 3).join(':')}::/48`;
}

export class RefusalBudget {
  /** Records written this window, per actor (keyed by pool and id) and per pool; only admitted actors are kept. */
  #perActor = new Map<string, number>();
  #perPool = new Map<RefusalPool, number>();
  #over = new Map<string, { pool: RefusalPool; kind: string; count: number; actors: Set<string> }>();

  /** Whether this refusal gets its own record; otherwise it is counted for the minute's summary. */
  admit(kind: string, actor: RefusedActor): boolean {
    const actorKey = `${actor.pool}\0${actor.id}`;
    const byActor = this.#perActor.get(actorKey) ?? 0;
    const byPool = this.#perPool.get(actor.pool) ?? 0;
    if (byActor < PER_ACTOR && byPool < PER_POOL) {
      this.#perActor.set(actorKey, byActor + 1);
      this.#perPool.set(actor.pool, byPool + 1);
      return true;
    }
    const overKey = `${actor.pool}\0${kind}`;
    const over = this.#over.get(overKey) ?? { pool: actor.pool, kind, count: 0, actors: new Set<string>() };
    over.count++;
    if (over.actors.size < ACTORS_COUNTED) over.actors.add(actor.id);
    this.#over.set(overKey, over);
    return false;
  }

  /** Ends the window: what was only counted in it, and a fresh budget. */
  drain(): RefusalCount[] {
    const counted = [...this.#over.values()].map(({ pool, kind, count, actors }) => ({ pool, kind, count, actors: actors.size }));
    this.#perActor = new Map();
    this.#perPool = new Map();
    this.#over = new Map();
    return counted;
  }
}
