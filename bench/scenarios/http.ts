// Scenario 1: an authenticated request to an allowed room path through roomguard vs. a bare
// @fastify/http-proxy to the same upstream, at saturation (throughput) and at a fixed 2,000 req/s
// (added median and p99 latency); and a public static path of the backend, at saturation.
import { atRate, saturate, type HttpRun, type HttpTarget } from '../load.js';
import { cpuRows, differenceRow, ratioRow, type Row } from '../report.js';
import { median, alternate } from '../stats.js';
import { OPEN_ROOM } from '../environment.js';
import { sessionCookie } from '../participants.js';
import type { Scenario } from './scenario.js';

const FIXED_RATE = 2000;

export const httpScenario: Scenario = {
  name: 'http',
  async run(env, settings, accounts) {
    const [user] = accounts.take(1);
    const cookie = await sessionCookie(env.gateway.url, OPEN_ROOM, user!);
    // Not a page load (no Accept: text/html): what a conference app's own requests look like. The browser
    // sends the same request whatever stands in front of the backend, cookies included.
    const roomguard: HttpTarget = { url: `${env.gateway.url}/rooms/${OPEN_ROOM}/app.js`, headers: { cookie }, pid: env.gateway.pid };
    const bare: HttpTarget = { url: `${env.bareProxy.url}/rooms/${OPEN_ROOM}/app.js`, headers: { cookie }, pid: env.bareProxy.pid };
    await saturate(bare, 1);
    await saturate(roomguard, 1);

    const full = await alternate(settings.reps, () => saturate(bare, settings.seconds), () => saturate(roomguard, settings.seconds));
    const fixed = await alternate(settings.reps, () => atRate(bare, settings.seconds, FIXED_RATE), () => atRate(roomguard, settings.seconds, FIXED_RATE));
    const m = (runs: HttpRun[], key: 'rps' | 'p50' | 'p99') => median(runs.map((r) => r[key]));
    const scenario = 'authenticated room request vs bare proxy';
    // A public static path of the backend (backend.public: /public/*, as Jitsi's /libs, /css, /images),
    // which needs no session; the browser sends its cookies all the same.
    const publicPath = '/public/libs/app.bundle.min.js';
    const publicRoomguard: HttpTarget = { url: `${env.gateway.url}${publicPath}`, headers: { cookie }, pid: env.gateway.pid };
    const publicBare: HttpTarget = { url: `${env.bareProxy.url}${publicPath}`, headers: { cookie }, pid: env.bareProxy.pid };
    await saturate(publicBare, 1);
    await saturate(publicRoomguard, 1);
    const statics = await alternate(settings.reps, () => saturate(publicBare, settings.seconds), () => saturate(publicRoomguard, settings.seconds));
    const publicScenario = 'public static path vs bare proxy';
    return [
      ratioRow({ scenario, metric: 'throughput at saturation', unit: 'req/s', baseline: m(full.baseline, 'rps'), roomguard: m(full.contender, 'rps'), goal: '≥ 0.85×' }, 0.85),
      differenceRow({ scenario, metric: `median latency at ${FIXED_RATE} req/s`, unit: 'ms', baseline: m(fixed.baseline, 'p50'), roomguard: m(fixed.contender, 'p50'), goal: '≤ +1 ms' }, 1),
      differenceRow({ scenario, metric: `p99 latency at ${FIXED_RATE} req/s`, unit: 'ms', baseline: m(fixed.baseline, 'p99'), roomguard: m(fixed.contender, 'p99'), goal: '≤ +3 ms' }, 3),
      ...cpuRows(scenario, 'proxy', full),
      ratioRow({ scenario: publicScenario, metric: 'throughput at saturation', unit: 'req/s', baseline: m(statics.baseline, 'rps'), roomguard: m(statics.contender, 'rps'), goal: '≥ 0.95×' }, 0.95),
      ...cpuRows(publicScenario, 'proxy', statics),
    ];
  },
};
