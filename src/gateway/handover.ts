// One listening socket, several generations of the app: a config reload (SIGHUP) builds a new fastify
// app and hands it every new request and WebSocket upgrade, while requests under way finish on the old
// one. The same switch drains on shutdown: it stops accepting, lets requests finish, and closes
// keep-alive connections as they fall idle.
import { Server as HttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Generation {
  app: FastifyInstance;
  request: RequestListener;
  upgrade: UpgradeListener;
}

export class Handover {
  readonly server: Server;
  #current: Generation;
  #inFlight = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  /** Takes over `app`'s own server (after `listen`): its listeners become the first generation. */
  constructor(app: FastifyInstance) {
    this.server = app.server;
    this.#current = Handover.#capture(app, this.server);
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#request(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#current.upgrade(req, socket, head));
  }

  static #capture(app: FastifyInstance, server: Server): Generation {
    const requests = server.listeners('request') as RequestListener[];
    const upgrades = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('request');
    server.removeAllListeners('upgrade');
    return {
      app,
      request: (req, res) => {
        for (const listener of requests) listener(req, res);
      },
      upgrade: (req, socket, head) => {
        if (upgrades.length === 0) socket.destroy();
        for (const listener of upgrades) listener(req, socket, head);
      },
    };
  }

  get app(): FastifyInstance {
    return this.#current.app;
  }

  /** From now on, new requests and upgrades go to `app` (built with a server of its own that never listens). */
  switchTo(app: FastifyInstance): FastifyInstance {
    const previous = this.#current.app;
    this.#current = Handover.#capture(app, app.server);
    return previous;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight++;
    // While draining, every answer ends its connection, so keep-alive clients move to another instance.
    if (this.#draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    });
    this.#current.request(req, res);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Stops accepting connections and waits (at most `timeoutMs`) until no HTTP request is under way;
   * resolves to the number still running then. Upgraded WebSockets are not requests: the caller closes them.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.#draining = true;
    // The plain close of http.Server (stop listening, end idle keep-alive connections): fastify's proxy
    // plugin patches this server's own close() to cut every WebSocket at once.
    HttpServer.prototype.close.call(this.server);
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.server.closeIdleConnections();
    return this.#inFlight;
  }
}
