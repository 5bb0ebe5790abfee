// Scenario 2: forward-auth (`/_roomguard/verify`, asked by nginx/Traefik/Caddy before they proxy) vs. a
// bare fastify route answering 200; and, as deployed, Debian's nginx with auth_request to roomguard vs.
// the same nginx proxying alone. Reported as not available while the gateway has no such endpoint.
import { saturate, type HttpTarget } from '../load.js';
import { cpuRows, ratioRow, type Row } from '../report.js';
import { alternate, median } from '../stats.js';
import { sessionCookie } from '../participants.js';
import { OPEN_ROOM } from '../environment.js';
import { nginxInstalled, startNginx } from '../nginx.js';
import type { Scenario } from './scenario.js';

const SCENARIO = 'forward-auth verify vs bare 200 route';
const GOAL = '≥ 0.80×';

export const forwardAuthScenario: Scenario = {
  name: 'forward-auth',
  async run(env, settings, accounts) {
    const [user] = accounts.take(1);
    const cookie = await sessionCookie(env.gateway.url, OPEN_ROOM, user!);
    const headers = { cookie, 'x-original-uri': `/rooms/${OPEN_ROOM}`, 'x-original-method': 'GET' };
    const verify: HttpTarget = { url: `${env.gateway.url}/_roomguard/verify`, headers, pid: env.gateway.pid };
    const probe = await fetch(verify.url, { headers: verify.headers! });
    await probe.arrayBuffer();
    if (probe.status === 404) {
      return [{ scenario: SCENARIO, metric: 'throughput at saturation', unit: 'req/s', goal: GOAL, note: 'not available: this gateway build has no /_roomguard/verify' }];
    }
    if (probe.status < 200 || probe.status > 299) throw new Error(`/_roomguard/verify answered ${probe.status} for an allowed room`);
    // The same request as nginx's auth_request would send either of them.
    const bare: HttpTarget = { url: `${env.bareRoute.url}/verify`, headers, pid: env.bareRoute.pid };
    await saturate(bare, 1);
    await saturate(verify, 1);
    const runs = await alternate(settings.reps, () => saturate(bare, settings.seconds), () => saturate(verify, settings.seconds));
    const rows: Row[] = [
      ratioRow({ scenario: SCENARIO, metric: 'throughput at saturation', unit: 'req/s', baseline: median(runs.baseline.map((r) => r.rps)), roomguard: median(runs.contender.map((r) => r.rps)), goal: GOAL }, 0.8),
      ...cpuRows(SCENARIO, 'answering', runs),
    ];
    // The deployment row must not take the verify row with it when nginx misbehaves.
    rows.push(await behindNginx(env.upstream.url, env.gateway.url, cookie, settings.reps, settings.seconds).catch((err: Error): Row => (
      { scenario: 'nginx + forward-auth vs nginx alone', metric: 'scenario failed', unit: '-', goal: 'report', pass: false, note: err.message.slice(0, 200) })));
    return rows;
  },
};

/** A room request through nginx asking roomguard first vs. through the same nginx alone. */
async function behindNginx(upstream: string, gateway: string, cookie: string, reps: number, seconds: number): Promise<Row> {
  const scenario = 'nginx + forward-auth vs nginx alone';
  const metric = 'room request throughput at saturation';
  if (!nginxInstalled()) return { scenario, metric, unit: 'req/s', goal: 'report', note: 'not available: /usr/sbin/nginx is not installed (Debian package nginx)' };
  const nginx = await startNginx(upstream, gateway);
  try {
    const path = `/rooms/${OPEN_ROOM}/app.js`;
    const alone: HttpTarget = { url: `${nginx.plainUrl}${path}`, headers: { cookie } };
    const guarded: HttpTarget = { url: `${nginx.guardedUrl}${path}`, headers: { cookie } };
    await saturate(alone, 1);
    await saturate(guarded, 1);
    const runs = await alternate(reps, () => saturate(alone, seconds), () => saturate(guarded, seconds));
    return ratioRow({ scenario, metric, unit: 'req/s', baseline: median(runs.baseline.map((r) => r.rps)), roomguard: median(runs.contender.map((r) => r.rps)), goal: 'report' });
  } finally {
    await nginx.close();
  }
}
