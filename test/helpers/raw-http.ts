// Raw HTTP requests whose path is sent byte for byte (fetch would resolve dot segments first).
import { request } from 'node:http';
import { connect } from 'node:net';

export function rawRequest(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * One request written byte for byte on a fresh socket, for paths a client library would refuse or repair
 * (raw controls, spaces, non-ASCII characters): the request target is sent as UTF-8. Resolves with the status
 * (0 when the server closed without an answer), headers and body once the response is complete.
 */
export function rawTargetRequest(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = () => {
      socket.destroy();
      resolve(parseResponse(received) ?? { status: 0, headers: {}, body: '' });
    };
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target} within 10 s`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponse(received, true)) finish();
    });
    socket.on('error', reject);
    socket.on('close', finish);
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    // No half-close: nginx and Node take a client's FIN as giving up on the request (nginx: 499).
    socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'));
  });
}

/** The response in `raw`; with `complete`, only once all of its body has arrived (else undefined). */
function parseResponse(raw: Buffer, complete = false): { status: number; headers: Record<string, string>; body: string } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine.split(' ')[1] ?? 0);
  let body: Buffer | undefined = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = dechunk(body);
  else if (headers['content-length'] !== undefined && body.length < Number(headers['content-length'])) body = undefined;
  else if (headers['content-length'] === undefined && complete && status !== 304 && status !== 204) body = undefined;
  if (body === undefined) return complete ? undefined : { status, headers, body: '' };
  return { status, headers, body: body.toString('utf8') };
}

/** The body of a chunked message, or undefined while its last chunk has not arrived. */
function dechunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return Buffer.concat(parts);
    if (size === 0) return Buffer.concat(parts);
    if (body.length < lineEnd + 2 + size) return undefined;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
