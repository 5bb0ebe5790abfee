// Requests Node's HTTP parser or fastify's router cannot even read (a raw byte where the grammar allows
// none, an escape the router cannot decode, headers too large, a request too slow) still get roomguard's
// refusal page with a request id and a next step, never a framework's bare JSON.
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { errorPage } from '../ui/pages.js';
import { securityHeaders } from './security-headers.js';

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

/** The status Node's own handler would give this parser error. */
function statusOf(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  return 400;
}

/**
 * fastify's `clientErrorHandler`: writes a complete response on the raw socket (no request object
 * exists) in English, the only language known before the headers could be read, and closes it.
 */
export function clientErrorAnswer(options: { orgName: string; hasLogo: boolean; https: boolean; newRequestId: () => string; log: () => FastifyBaseLogger | undefined }) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    // ECONNRESET and the like: the client is gone, there is nobody to answer.
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const requestId = options.newRequestId();
    const status = statusOf(error.code);
    options.log()?.info({ event: 'request.unreadable', code: error.code, status, reqId: requestId }, 'request could not be parsed');
    const body = errorPage({ lang: 'en', orgName: options.orgName, hasLogo: options.hasLogo, nonce: '', switchHref: '/?lang=de' }, { code: 'RG_REQUEST_INVALID', requestId });
    const headers = { ...securityHeaders({ https: options.https, formActions: [] }), 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': requestId, connection: 'close' };
    const head = [`HTTP/1.1 ${status} ${STATUS_TEXT[status]}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)].join('\r\n');
    socket.end(`${head}\r\n\r\n${body}`);
  };
}
