// The conference stand-in the benchmarks proxy to: a small fixed HTTP answer and a WebSocket echo. Lean on
// purpose (unlike test/helpers/upstream.ts it keeps no log of what arrived), so it is never the bottleneck.
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';

const PAGE = JSON.stringify({ room: 'ok', note: 'roomguard benchmark upstream' });

export interface BenchUpstream {
  url: string;
  close(): Promise<void>;
}

export async function startBenchUpstream(): Promise<BenchUpstream> {
  const server: Server = createServer((req, res) => {
    // Drain any body before answering so keep-alive connections stay usable.
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PAGE) });
      res.end(PAGE);
    });
  });
  // Keep-alive longer than the load generator's runs, so neither side pays for reconnects.
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
