// Requests roomguard cannot hand to a route — Node's HTTP parser cannot read them (a raw byte where the
// grammar allows none, headers too large, a request too slow), they ask for an expectation or a tunnel
// (`Expect: foo`, `CONNECT`), or the router has no route for their method — still get roomguard's refusal
// page with a request id and a next step, never a framework's bare answer or a silently closed socket.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { ErrorCode } from '../errors.js';
import { errorPage } from '../ui/pages.js';
import { securityHeaders } from '../ui/security-headers.js';
import type { SiteLinks } from '../ui/layout.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large',
};

/** The status Node's own handler would give this parser error. */
function statusOf(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  return 400;
}

export interface RawRefusals {
  /** fastify's `clientErrorHandler`. */
  clientError(error: Error & { code?: string }, socket: Socket): void;
  /** Answers `Expect` values other than 100-continue (Node would send a bare 417) and `CONNECT` (Node would close the socket). */
  attach(server: Server): void;
}

/**
 * Refusals written without a fastify request: in English, the only language known before the headers
 * could be read (the page links the German one).
 */
export function rawRefusals(options: { orgName: string; hasLogo: boolean; https: boolean; links?: SiteLinks; newRequestId: () => string; log: () => FastifyBaseLogger | undefined }): RawRefusals {
  const page = (status: number, code: ErrorCode, event: string, detail: string | undefined): { head: string; headers: Record<string, string>; body: string } => {
    const requestId = options.newRequestId();
    options.log()?.info({ event, detail, status, reqId: requestId }, 'request refused before routing');
    const body = errorPage({ lang: 'en', orgName: options.orgName, hasLogo: options.hasLogo, nonce: '', switchHref: '/?lang=de', ...(options.links ? { links: options.links } : {}) }, { code, requestId });
    const headers = { ...securityHeaders({ https: options.https, formActions: [] }), 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId, connection: 'close' };
    return { head: `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`, headers, body };
  };
  const onSocket = (socket: Socket, status: number, code: ErrorCode, event: string, detail: string | undefined) => {
    const { head, headers, body } = page(status, code, event, detail);
    socket.end(`${[head, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)].join('\r\n')}\r\n\r\n${body}`);
  };
  return {
    clientError(error, socket) {
      // The client is gone (ECONNRESET and the like), or the socket is: nobody to answer.
      if (!socket.writable || socket.destroyed || error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        socket.destroy();
        return;
      }
      onSocket(socket, statusOf(error.code), 'RG_REQUEST_INVALID', 'request.unreadable', error.code);
    },
    attach(server) {
      server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
        const { headers, body } = page(417, 'RG_REQUEST_INVALID', 'request.expectation', String(request.headers.expect ?? '').slice(0, 40));
        response.writeHead(417, headers).end(body);
      });
      server.on('connect', (request: IncomingMessage, socket: Socket) => {
        onSocket(socket, 405, 'RG_METHOD_NOT_ALLOWED', 'request.connect', String(request.url ?? '').slice(0, 100));
      });
    },
  };
}
