// Load generators: autocannon (programmatic API) for HTTP at saturation and at a fixed rate, and `ws`
// clients for WebSocket frames. Every run refuses to report a figure when any answer was not a 2xx, so
// a broken session or a refusal can never pass for a fast one.
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { cpuDuring } from './cpu.js';

export interface HttpTarget {
  url: string;
  headers?: Record<string, string>;
  /** The process that answers: its CPU time per request is measured too. */
  pid?: number;
}

export interface HttpRun {
  /** 2xx answers per second over the run. */
  rps: number;
  /** Latency in milliseconds. */
  p50: number;
  p99: number;
  /** CPU time (user + system) per answered request in µs: of the target's process (with `pid`) and of the load generator. */
  serverCpuUs?: number;
  clientCpuUs?: number;
}

async function cannon(target: HttpTarget, options: { seconds: number; connections: number; overallRate?: number }): Promise<HttpRun> {
  const pids: Record<string, number> = { client: process.pid, ...(target.pid ? { server: target.pid } : {}) };
  const { result, cpu } = await cpuDuring(pids, () => autocannon({
    url: target.url,
    headers: target.headers ?? {},
    connections: options.connections,
    duration: options.seconds,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  }));
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}×${s.count ?? 0}`).join(' ');
    throw new Error(`${target.url}: ${result.non2xx} non-2xx answers (${codes}), ${result.errors} errors; not a valid measurement`);
  }
  const perRequest = (ms: number | undefined) => (ms === undefined || result['2xx'] === 0 ? undefined : (ms * 1000) / result['2xx']);
  const serverCpuUs = perRequest(cpu.server);
  const clientCpuUs = perRequest(cpu.client);
  return {
    rps: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99,
    ...(serverCpuUs !== undefined ? { serverCpuUs } : {}), ...(clientCpuUs !== undefined ? { clientCpuUs } : {}),
  };
}

/** As many requests as the target answers: enough connections to keep it busy on a small machine. */
export function saturate(target: HttpTarget, seconds: number): Promise<HttpRun> {
  return cannon(target, { seconds, connections: 32 });
}

/** A fixed request rate spread over the connections, for latency without queueing at saturation. */
export function atRate(target: HttpTarget, seconds: number, rate: number): Promise<HttpRun> {
  return cannon(target, { seconds, connections: 20, overallRate: rate });
}

/** Opens `count` WebSockets, `batch` handshakes at a time; throws if any is refused. */
export async function openSockets(url: string, count: number, headers: Record<string, string>, batch = 100, protocol?: string): Promise<WebSocket[]> {
  const open: WebSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    const wave = Array.from({ length: Math.min(batch, count - i) }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = protocol ? new WebSocket(url, protocol, { headers }) : new WebSocket(url, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: WebSocket refused with ${res.statusCode}`)));
      ws.once('error', reject);
    }));
    open.push(...(await Promise.all(wave)));
  }
  return open;
}

export async function closeSockets(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.terminate();
  })));
}

/**
 * Frames both ways (small ones unless `frames` are given, then those in turn): each socket keeps `window`
 * frames in flight and sends the next when an echo comes back. Returns frames per second counted in both
 * directions (one echo = two frames).
 */
export async function echoFrames(sockets: WebSocket[], seconds: number, window = 4, frames: readonly string[] = ['{"type":"ping","t":0}']): Promise<number> {
  let next = 0;
  const nextFrame = () => frames[next++ % frames.length]!;
  let echoes = 0;
  let running = true;
  const listeners = sockets.map((ws) => {
    const onMessage = () => {
      echoes++;
      if (running) ws.send(nextFrame());
    };
    ws.on('message', onMessage);
    return onMessage;
  });
  const start = performance.now();
  for (const ws of sockets) for (let i = 0; i < window; i++) ws.send(nextFrame());
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const counted = echoes;
  // Let frames in flight drain so the next run starts from quiet sockets.
  await new Promise((r) => setTimeout(r, 200));
  sockets.forEach((ws, i) => ws.off('message', listeners[i]!));
  if (counted === 0) throw new Error('no WebSocket frame came back; not a valid measurement');
  return (2 * counted) / elapsed;
}
