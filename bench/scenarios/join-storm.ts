// Scenario 4: a join storm. N people, 50 at a time, each sign in at the real IdP through roomguard,
// type a TOTP code and open a high-risk room; the baseline is the same people signing in at the same
// IdP through a bare relying party (code flow and token exchange, nothing else).
import { performance } from 'node:perf_hooks';
import { differenceRow, ratioRow, type Row } from '../report.js';
import { median, percentile } from '../stats.js';
import { HIGH_RISK_ROOM } from '../environment.js';
import { idpOnlyLogin, joinWithTotp, participantBrowser } from '../participants.js';
import type { Scenario } from './scenario.js';
import { cpuDuring } from '../cpu.js';

const AT_A_TIME = 50;
const WARM_UP_PEOPLE = 10;

/** A made-up client address per person, so each has their own attempt limit as in real life. */
const addressOf = (user: string) => {
  const n = Number(user.slice(user.lastIndexOf('-') + 1));
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

interface Storm {
  seconds: number;
  /** CPU ms per person of each process involved (client = the load generator, this process). */
  cpuPerJoin: Record<string, number>;
  /** Each person's time from first request to the room page (or the bare RP's signed-in page), in ms. */
  latencies: number[];
}

async function storm(people: string[], pids: Record<string, number>, one: (user: string) => Promise<void>): Promise<Storm> {
  const queue = [...people];
  const latencies: number[] = [];
  const start = performance.now();
  const { cpu } = await cpuDuring(pids, () => Promise.all(Array.from({ length: Math.min(AT_A_TIME, people.length) }, async () => {
    for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
      const t0 = performance.now();
      await one(user);
      latencies.push(performance.now() - t0);
    }
  })));
  const cpuPerJoin = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / people.length]));
  return { seconds: (performance.now() - start) / 1000, latencies, cpuPerJoin };
}

/** Median CPU per join of one process over the storms. */
function cpuOf(runs: Storm[], name: string): number {
  return median(runs.map((r) => r.cpuPerJoin[name] ?? Number.NaN));
}

export const joinStormScenario: Scenario = {
  name: 'join-storm',
  async run(env, settings, accounts) {
    const roomguard: Storm[] = [];
    const idpOnly: Storm[] = [];
    const n = settings.stormPeople;
    const round = async (people: string[]) => {
      const secrets = await env.enrolAuthenticators(people);
      const baseline = await storm(people, { client: process.pid, 'relying party': env.bareRp.pid, IdP: env.idp.pid, Redis: env.redis.pid }, (user) => idpOnlyLogin(participantBrowser(addressOf(user)), env.bareRp.url, user));
      const contender = await storm(people, { client: process.pid, 'relying party': env.gateway.pid, IdP: env.idp.pid, Redis: env.redis.pid }, (user) => joinWithTotp(participantBrowser(addressOf(user)), env.gateway.url, HIGH_RISK_ROOM, user, secrets.get(user)!));
      return { baseline, contender };
    };
    // A small unmeasured storm first, so neither side is timed with cold code paths.
    await round(accounts.take(WARM_UP_PEOPLE));
    for (let rep = 0; rep < settings.reps; rep++) {
      // Fresh people each time: a TOTP code is accepted once per account and time step.
      const { baseline, contender } = await round(accounts.take(n));
      idpOnly.push(baseline);
      roomguard.push(contender);
    }
    const scenario = `join storm, ${n} people, ${Math.min(AT_A_TIME, n)} at a time`;
    const seconds = (runs: Storm[]) => median(runs.map((r) => r.seconds));
    const rate = (runs: Storm[]) => median(runs.map((r) => n / r.seconds));
    const p99 = (runs: Storm[]) => median(runs.map((r) => percentile(r.latencies, 99)));
    return [
      // Issue 22: on two shared cores the storm's time includes the load generator and the IdP: reported.
      ratioRow({ scenario, metric: 'time for everyone (login+TOTP+join vs IdP login)', unit: 's', baseline: seconds(idpOnly), roomguard: seconds(roomguard), goal: 'report' }),
      // The join's own cost (issue 22): the gateway's CPU per join against the bare relying party's.
      ratioRow({ scenario, metric: 'CPU per join: gateway vs bare relying party', unit: 'ms', baseline: cpuOf(idpOnly, 'relying party'), roomguard: cpuOf(roomguard, 'relying party'), goal: '≤ 2.0×' }, undefined, 2),
      ratioRow({ scenario, metric: 'joins per second (vs IdP logins per second)', unit: '1/s', baseline: rate(idpOnly), roomguard: rate(roomguard), goal: 'report' }),
      ratioRow({ scenario, metric: 'p99 join latency (vs p99 IdP login)', unit: 'ms', baseline: p99(idpOnly), roomguard: p99(roomguard), goal: 'report' }),
      // Where the time goes: CPU per person of each process (the relying party is roomguard or the bare one).
      ...['relying party', 'IdP', 'client', 'Redis'].map((name) => differenceRow({
        scenario, metric: `CPU per join: ${name === 'client' ? 'client (load generator)' : name}`, unit: 'ms',
        baseline: cpuOf(idpOnly, name), roomguard: cpuOf(roomguard, name), goal: 'report',
      })),
    ] satisfies Row[];
  },
};
