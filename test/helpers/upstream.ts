// A real HTTP + WebSocket upstream for gateway tests: every HTTP request is answered with what arrived
// (method, url, headers, body), and every WebSocket first reports its handshake, then echoes.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { WebSocketServer } from 'ws';

export interface Arrived {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface EchoUpstream {
  url: string;
  port: number;
  /** Every HTTP request and WebSocket handshake that reached the upstream, in order. */
  arrived: Arrived[];
  /** Every WebSocket message that reached the upstream (as text), in order. */
  messages: string[];
  close(): Promise<void>;
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const arrived: Arrived[] = [];
  const messages: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      arrived.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entry));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    const entry = { method: 'WS', url: req.url ?? '', headers: req.headers, body: '' };
    arrived.push(entry);
    ws.send(JSON.stringify(entry));
    ws.on('message', (data) => {
      messages.push(data.toString());
      ws.send(`echo:${data.toString()}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    arrived,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
