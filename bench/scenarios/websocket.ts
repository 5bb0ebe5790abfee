// Scenario 3: WebSocket relay through roomguard vs. the bare proxy: small frames both ways (frames/s),
// and the memory each open, idle WebSocket costs the proxying process (RSS and heap after a full GC).
import { closeSockets, echoFrames, openSockets } from '../load.js';
import { differenceRow, ratioRow, type Row } from '../report.js';
import { alternate, median } from '../stats.js';
import { OPEN_ROOM } from '../environment.js';
import { sessionCookie } from '../participants.js';
import type { ServerProcess } from '../processes.js';
import type { Scenario } from './scenario.js';

/** Sockets kept busy in the frame test. */
const BUSY_SOCKETS = 50;

const wsUrl = (origin: string) => `${origin.replace(/^http/, 'ws')}/rooms/${OPEN_ROOM}`;

/** Bytes per open idle socket: the process's memory with `count` sockets held minus without. */
async function perConnection(server: ServerProcess, count: number, headers: Record<string, string>): Promise<{ rss: number; heap: number }> {
  const before = await server.memory();
  const sockets = await openSockets(wsUrl(server.url), count, headers);
  // Let handshakes and upstream connections settle before reading.
  await new Promise((r) => setTimeout(r, 500));
  const held = await server.memory();
  await closeSockets(sockets);
  await new Promise((r) => setTimeout(r, 500));
  return { rss: (held.rss - before.rss) / count, heap: (held.heapUsed + held.external - before.heapUsed - before.external) / count };
}

export const websocketScenario: Scenario = {
  name: 'websocket',
  async run(env, settings, accounts) {
    const [user] = accounts.take(1);
    const headers = { cookie: await sessionCookie(env.gateway.url, OPEN_ROOM, user!) };
    const guarded = await openSockets(wsUrl(env.gateway.url), BUSY_SOCKETS, headers);
    // The browser sends the same handshake whatever stands in front of the backend, cookies included.
    const bare = await openSockets(wsUrl(env.bareProxy.url), BUSY_SOCKETS, headers);
    let frames: { baseline: number[]; contender: number[] };
    try {
      await echoFrames(bare, 1);
      await echoFrames(guarded, 1);
      frames = await alternate(settings.reps, () => echoFrames(bare, settings.seconds), () => echoFrames(guarded, settings.seconds));
    } finally {
      await closeSockets([...guarded, ...bare]);
    }
    const scenario = 'WebSocket relay vs bare proxy';
    const idle = settings.idleSockets;
    const bareMemory = await perConnection(env.bareProxy, idle, headers);
    const gatewayMemory = await perConnection(env.gateway, idle, headers);
    const kib = (bytes: number) => bytes / 1024;
    return [
      ratioRow({ scenario, metric: `echoed frames, ${BUSY_SOCKETS} sockets`, unit: 'frames/s', baseline: median(frames.baseline), roomguard: median(frames.contender), goal: '≥ 0.90×' }, 0.9),
      differenceRow({ scenario, metric: `RSS per idle WebSocket (${idle.toLocaleString('en-US')} held)`, unit: 'KiB', baseline: kib(bareMemory.rss), roomguard: kib(gatewayMemory.rss), goal: 'report' }),
      differenceRow({ scenario, metric: `heap+external per idle WebSocket (${idle.toLocaleString('en-US')} held)`, unit: 'KiB', baseline: kib(bareMemory.heap), roomguard: kib(gatewayMemory.heap), goal: 'report' }),
    ] satisfies Row[];
  },
};
