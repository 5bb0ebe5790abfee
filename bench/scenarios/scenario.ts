// What every scenario gets (the running environment and the run's settings) and gives back (rows).
import type { Environment } from '../environment.js';
import type { Row } from '../report.js';

export interface Settings {
  quick: boolean;
  /** Repetitions of each baseline/roomguard pair; the median is reported. */
  reps: number;
  /** Seconds per load-generator run. */
  seconds: number;
  /** People per join storm (they join 50 at a time). */
  stormPeople: number;
  /** Idle WebSockets held open to measure memory per connection. */
  idleSockets: number;
  /** Milliseconds per decide() timing. */
  decideMs: number;
}

/** Hands out bench accounts nobody used yet in this run (a TOTP code can be used once per account). */
export class Accounts {
  #next = 0;
  constructor(readonly total: number) {}

  take(count: number): string[] {
    if (this.#next + count > this.total) throw new Error(`the IdP has only ${this.total} bench accounts; raise the count in bench/run.ts`);
    const names = Array.from({ length: count }, (_, i) => `bench-${this.#next + i}`);
    this.#next += count;
    return names;
  }
}

export interface Scenario {
  name: string;
  run(env: Environment, settings: Settings, accounts: Accounts): Promise<Row[]>;
}
