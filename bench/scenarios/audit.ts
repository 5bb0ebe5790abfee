// Scenario 5: joins (page loads of a room, each written to the audit log before admission) through the
// gateway whose audit log fsyncs with group commit vs. the same gateway build with the audit sink off.
import { saturate, type HttpTarget } from '../load.js';
import { cpuRows, ratioRow, type Row } from '../report.js';
import { alternate, median } from '../stats.js';
import { OPEN_ROOM } from '../environment.js';
import { sessionCookie } from '../participants.js';
import type { Scenario } from './scenario.js';

async function joinTarget(gateway: { url: string; pid: number }, user: string): Promise<HttpTarget> {
  const cookie = await sessionCookie(gateway.url, OPEN_ROOM, user);
  // sec-fetch-dest: document makes every request a page load of the room, i.e. a join with a record.
  return { url: `${gateway.url}/rooms/${OPEN_ROOM}`, headers: { cookie, 'sec-fetch-dest': 'document', accept: 'text/html' }, pid: gateway.pid };
}

export const auditScenario: Scenario = {
  name: 'audit',
  async run(env, settings, accounts) {
    const [a, b] = accounts.take(2);
    const withAudit = await joinTarget(env.gateway, a!);
    const withoutAudit = await joinTarget(env.gatewayNoAudit, b!);
    await saturate(withoutAudit, 1);
    await saturate(withAudit, 1);
    const runs = await alternate(settings.reps, () => saturate(withoutAudit, settings.seconds), () => saturate(withAudit, settings.seconds));
    const scenario = 'join with audit fsync vs audit sink off';
    const rows: Row[] = [
      ratioRow({ scenario, metric: 'joins at saturation', unit: 'joins/s', baseline: median(runs.baseline.map((r) => r.rps)), roomguard: median(runs.contender.map((r) => r.rps)), goal: '≥ 0.80×' }, 0.8),
      // Whether the audit log costs CPU (records built, hashed, written) or waiting (fsync): the gateway's CPU per join.
      cpuRows(scenario, 'gateway', runs)[0]!,
    ];
    return rows;
  },
};
