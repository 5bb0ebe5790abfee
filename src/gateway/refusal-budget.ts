// Refusals of requests without a session (an unknown callback, an unknown invitation link …) are written
// to the audit log one by one only up to a budget per client network and per minute, and in all. Beyond
// it they are counted, and each minute one `audit.summary` record per kind of refusal says how many there
// were and from how many networks. So an anonymous client can neither fill the audit disk — a full disk
// refuses every join — nor bury the log in copies, and no refusal goes unaccounted.

/** Records per client network (IPv4 /24, IPv6 /48) and minute; then only counted. */
export const PER_CLIENT = 20;
/** Records of all anonymous refusals per minute; then only counted. */
export const PER_WINDOW = 300;
export const WINDOW_MS = 60_000;

export interface RefusalCount {
  kind: string;
  count: number;
  clients: number;
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
  #perClient = new Map<string, number>();
  #total = 0;
  #over = new Map<string, { count: number; clients: Set<string> }>();

  /** Whether this refusal gets its own record; otherwise it is counted for the minute's summary. */
  admit(kind: string, ip: string): boolean {
    const network = clientNetwork(ip);
    const seen = this.#perClient.get(network) ?? 0;
    if (seen < PER_CLIENT && this.#total < PER_WINDOW) {
      this.#perClient.set(network, seen + 1);
      this.#total++;
      return true;
    }
    const over = this.#over.get(kind) ?? { count: 0, clients: new Set<string>() };
    over.count++;
    // Bounded: the number of networks is only a count in the summary.
    if (over.clients.size < 100_000) over.clients.add(network);
    this.#over.set(kind, over);
    return false;
  }

  /** Ends the window: what was only counted in it, and a fresh budget. */
  drain(): RefusalCount[] {
    const counted = [...this.#over].map(([kind, over]) => ({ kind, count: over.count, clients: over.clients.size }));
    this.#perClient = new Map();
    this.#total = 0;
    this.#over = new Map();
    return counted;
  }
}
