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
    // The deployment rows must not take the verify row with them when nginx misbehaves.
    rows.push(...await behindNginx(env.upstream.url, env.gateway.url, cookie, settings.reps, settings.seconds).catch((err: Error): Row[] => [
      { scenario: NGINX_SCENARIO, metric: 'scenario failed', unit: '-', goal: NGINX_GOAL, pass: false, note: err.message.slice(0, 200) }]));
    return rows;
  },
};

const NGINX_SCENARIO = 'nginx + forward-auth vs nginx alone';
/** Issue 22: requests inside an admitted room through nginx asking roomguard, with the verdict cache. */
const NGINX_GOAL = '≥ 0.80×';

/**
 * A room request through nginx asking roomguard first (the shipped snippets), with the verdict cache on
 * and with it off, each vs. the same nginx proxying alone, alternating.
 */
async function behindNginx(upstream: string, gateway: string, cookie: string, reps: number, seconds: number): Promise<Row[]> {
  const cachedMetric = 'room sub-resource throughput, verdict cache on';
  const plainMetric = 'room sub-resource throughput, verdict cache off';
  if (!nginxInstalled()) return [{ scenario: NGINX_SCENARIO, metric: cachedMetric, unit: 'req/s', goal: NGINX_GOAL, note: 'not available: /usr/sbin/nginx is not installed (Debian package nginx)' }];
  const nginx = await startNginx(upstream, gateway);
  try {
    const path = `/rooms/${OPEN_ROOM}/app.js`;
    // A script inside the room, as the conference app's own requests are (never a page load).
    const headers = { cookie, 'sec-fetch-dest': 'script' };
    const alone: HttpTarget = { url: `${nginx.plainUrl}${path}`, headers };
    const cached: HttpTarget = { url: `${nginx.cachedUrl}${path}`, headers };
    const guarded: HttpTarget = { url: `${nginx.guardedUrl}${path}`, headers };
    for (const target of [alone, cached, guarded]) await saturate(target, 1);
    const withCache = await alternate(reps, () => saturate(alone, seconds), () => saturate(cached, seconds));
    const withoutCache = await alternate(reps, () => saturate(alone, seconds), () => saturate(guarded, seconds));
    const rps = (runs: { rps: number }[]) => median(runs.map((r) => r.rps));
    return [
      ratioRow({ scenario: NGINX_SCENARIO, metric: cachedMetric, unit: 'req/s', baseline: rps(withCache.baseline), roomguard: rps(withCache.contender), goal: NGINX_GOAL }, 0.8),
      ratioRow({ scenario: NGINX_SCENARIO, metric: plainMetric, unit: 'req/s', baseline: rps(withoutCache.baseline), roomguard: rps(withoutCache.contender), goal: 'report' }),
    ];
  } finally {
    await nginx.close();
  }
}
