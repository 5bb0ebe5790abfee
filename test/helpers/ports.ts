// Ports without races. A server that can tell its port after binding listens on port 0 and is asked
// (`portOf`). A server that must know its port before it starts — because it is in the gateway's public
// URL and the IdP's redirect URI, or in nginx's, Caddy's, Tomcat's or Redis's configuration — is started
// by `onFreePort`: it tries a port that is free now and, when another process took that port in between
// (EADDRINUSE), tears down and starts again on another. Asking for a free port and binding it later
// without that retry races with every other test worker, and is deliberately not offered here.
import { createServer, type AddressInfo } from 'node:net';

/** How many ports to try before giving up (each failure means another process took the port first). */
const ATTEMPTS = 8;

/** The port a listening server was bound to (after listening on port 0). */
export function portOf(server: { address(): AddressInfo | string | null }): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
  return address.port;
}

/** The port of a `host:port` or `[v6]:port` address, as `Gateway.listen()` and `roomguard serve` report it. */
export function portOfAddress(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in the address ${address}`);
  return port;
}

/**
 * Whether a start failed because its address was taken: Node's EADDRINUSE, or the words nginx, Redis,
 * Tomcat and Caddy print ("Address already in use" / "address already in use"), carried in the message.
 */
export function isAddressInUse(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(message);
}

/** An error that says a start lost its port to another process, so `onFreePort` tries another. */
export class AddressInUse extends Error {
  readonly code = 'EADDRINUSE';
  constructor(what: string, detail: string) {
    super(`${what}: address already in use\n${detail}`);
  }
}

/**
 * Runs `start` on ports that are free at the moment, again on new ports while it fails with an
 * address-in-use error. `start` must leave nothing running when it fails.
 */
export async function onFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = await portsFreeNow(count);
    try {
      return await start(ports);
    } catch (err) {
      if (!isAddressInUse(err) || attempt >= ATTEMPTS) throw err;
    }
  }
}

/** `onFreePorts` for one port. */
export function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  return onFreePorts(1, ([port]) => start(port!));
}

/**
 * Distinct loopback ports nobody listens on right now (the kernel's choice for port 0). Only a hint:
 * another process may bind one before the caller does, which `onFreePorts` answers with a retry.
 */
async function portsFreeNow(count: number): Promise<number[]> {
  // All are held open together so the kernel hands out distinct ports, then released.
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map(portOf);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
