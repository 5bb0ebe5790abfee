// Where roomguard's extra CPU per request goes, by library: CPU-profiles roomguard and its baseline (the
// bare proxy for `http`, the bare route for `verify`) under the same saturating load, measures each
// process's CPU per request from /proc, and splits that figure by where the profile says the time went
// (a package under node_modules, a Node subsystem, a roomguard source file, or a native function).
//   npx tsx bench/profile-compare.ts http        # GET /rooms/hall/app.js: roomguard vs bare @fastify/http-proxy
//   npx tsx bench/profile-compare.ts verify      # /_roomguard/verify vs a bare fastify route
//   npx tsx bench/profile-compare.ts xmpp        # Jitsi's XMPP WebSocket, every message read, vs the bare proxy (per echoed frame)
// Each share is of a process's busy time without start-up (module loading); the profiler itself makes
// everything somewhat slower, so read the table for proportions, the benchmark for figures. Places that
// differ by less than 0.5 µs are summed as "everything else" (RG_COMPARE_MIN=0.1 shows smaller ones).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEnvironment, OPEN_ROOM } from './environment.js';
import { startServer } from './processes.js';
import { sessionCookie } from './participants.js';
import { closeSockets, echoFrames, openSockets, saturate, type HttpTarget } from './load.js';
import { median } from './stats.js';
import { cpuDuring } from './cpu.js';
import { participantBrowser, signIn } from './participants.js';
import { JITSI_FRAMES } from './scenarios/xmpp.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** Busy time (µs) of a profile by place, start-up excluded. */
export function timeByPlace(path: string): { byPlace: Map<string, number>; busy: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const placeOf = (frame: ProfileNode['callFrame']): string => {
    if (!frame.url) return `(native) ${frame.functionName}`;
    const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(frame.url);
    if (pkg) return pkg[1]!;
    if (frame.url.startsWith('node:')) return frame.url.replace(/^node:(internal\/)?/, 'node:').replace(/\/.*$/, '');
    const src = frame.url.indexOf('/src/');
    return src === -1 ? frame.url : frame.url.slice(src + 1).replace(/\.js$/, '.ts');
  };
  const startup = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (/^node:internal\/(modules|bootstrap)/.test(frame.url)) return true;
    }
    return false;
  };
  const byPlace = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)' || startup(id)) return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    const place = placeOf(frame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  });
  return { byPlace, busy };
}

type Mode = 'http' | 'verify' | 'xmpp';

/** CPU (µs) per request, or per echoed frame, of roomguard and its baseline, three runs each, alternating. */
async function measure(mode: Mode, env: Awaited<ReturnType<typeof startEnvironment>>, baseline: { url: string; pid: number }) {
  const cpu = { roomguard: [] as number[], baseline: [] as number[] };
  if (mode === 'xmpp') {
    const browser = participantBrowser();
    const page = await signIn(browser, env.gatewayJitsi.url, `/${OPEN_ROOM}`, 'bench-1');
    await page.arrayBuffer();
    const headers = { cookie: browser.jar.header(new URL(env.gatewayJitsi.url))! };
    const wsOf = (origin: string) => `${origin.replace(/^http/, 'ws')}/xmpp-websocket?room=${OPEN_ROOM}`;
    const guarded = await openSockets(wsOf(env.gatewayJitsi.url), 50, headers, 100, 'xmpp');
    const bare = await openSockets(wsOf(baseline.url), 50, headers, 100, 'xmpp');
    const perFrame = async (sockets: typeof bare, pid: number) => {
      const { result, cpu: used } = await cpuDuring({ server: pid }, () => echoFrames(sockets, 4, 4, JITSI_FRAMES));
      // echoFrames counts each frame twice (there and back): one relayed message each way is one "frame" here.
      return (used.server! * 1000) / ((result * 4) / 2);
    };
    try {
      await echoFrames(bare, 1, 4, JITSI_FRAMES);
      await echoFrames(guarded, 1, 4, JITSI_FRAMES);
      for (let i = 0; i < 3; i++) {
        cpu.baseline.push(await perFrame(bare, baseline.pid));
        cpu.roomguard.push(await perFrame(guarded, env.gatewayJitsi.pid));
      }
    } finally {
      await closeSockets([...guarded, ...bare]);
    }
    return cpu;
  }
  const cookie = await sessionCookie(env.gateway.url, OPEN_ROOM, 'bench-0');
  // The same request to both, as a browser (or nginx's auth_request) would send it.
  const headers: Record<string, string> = mode === 'http' ? { cookie } : { cookie, 'x-original-uri': `/rooms/${OPEN_ROOM}`, 'x-original-method': 'GET' };
  const path = mode === 'http' ? `/rooms/${OPEN_ROOM}/app.js` : '/_roomguard/verify';
  const roomguard: HttpTarget = { url: `${env.gateway.url}${path}`, headers, pid: env.gateway.pid };
  const base: HttpTarget = { url: `${baseline.url}${mode === 'http' ? path : '/verify'}`, headers, pid: baseline.pid };
  await saturate(base, 2);
  await saturate(roomguard, 2);
  for (let i = 0; i < 3; i++) {
    cpu.baseline.push((await saturate(base, 4)).serverCpuUs!);
    cpu.roomguard.push((await saturate(roomguard, 4)).serverCpuUs!);
  }
  return cpu;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'http' && mode !== 'verify' && mode !== 'xmpp') {
    console.error('usage: npx tsx bench/profile-compare.ts http|verify|xmpp');
    process.exit(2);
  }
  const gatewayDir = mkdtempSync(join(tmpdir(), 'rg-compare-gw-'));
  const baselineDir = mkdtempSync(join(tmpdir(), 'rg-compare-base-'));
  const env = await startEnvironment({ users: 2, profileDir: gatewayDir, profiled: mode === 'xmpp' ? 'jitsi' : 'gateway' });
  const baseline = await startServer(mode === 'verify' ? { role: 'bare-route' } : { role: 'bare-proxy', upstream: env.upstream.url }, baselineDir);
  let cpu: { roomguard: number[]; baseline: number[] };
  try {
    cpu = await measure(mode, env, baseline);
  } finally {
    await baseline.close();
    await env.close();
  }
  const profileIn = (dir: string) => join(dir, readdirSync(dir).sort().at(-1)!);
  const perRequest = (dir: string, cpuUs: number) => {
    const { byPlace, busy } = timeByPlace(profileIn(dir));
    return new Map([...byPlace].map(([place, us]) => [place, (us / busy) * cpuUs]));
  };
  const [rgCpu, baseCpu] = [median(cpu.roomguard), median(cpu.baseline)];
  const rg = perRequest(gatewayDir, rgCpu);
  const base = perRequest(baselineDir, baseCpu);
  rmSync(gatewayDir, { recursive: true, force: true });
  rmSync(baselineDir, { recursive: true, force: true });
  const rows = [...new Set([...rg.keys(), ...base.keys()])]
    .map((place) => ({ place, base: base.get(place) ?? 0, rg: rg.get(place) ?? 0 }))
    .sort((a, b) => b.rg - b.base - (a.rg - a.base));
  const shownFrom = Number(process.env.RG_COMPARE_MIN ?? 0.5);
  const shown = rows.filter((r) => Math.abs(r.rg - r.base) >= shownFrom);
  const rest = rows.filter((r) => Math.abs(r.rg - r.base) < shownFrom).reduce((sum, r) => sum + r.rg - r.base, 0);
  const name = mode === 'verify' ? 'bare route' : 'bare proxy';
  console.log(`CPU per ${mode === 'xmpp' ? 'relayed frame' : 'request'} (µs, user + system, profiled): ${name} ${baseCpu.toFixed(mode === 'xmpp' ? 1 : 0)}, roomguard ${rgCpu.toFixed(mode === 'xmpp' ? 1 : 0)}\n`);
  console.log(`| where | ${name} | roomguard | added |\n| --- | ---: | ---: | ---: |`);
  for (const r of shown) console.log(`| ${r.place} | ${r.base.toFixed(1)} | ${r.rg.toFixed(1)} | ${(r.rg - r.base >= 0 ? '+' : '') + (r.rg - r.base).toFixed(1)} |`);
  console.log(`| everything else | | | ${(rest >= 0 ? '+' : '') + rest.toFixed(1)} |`);
}

await main();
