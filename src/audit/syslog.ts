// Optional copy of every record to a SIEM as RFC 5424 syslog over UDP (one datagram per record) or TCP
// (octet-counted framing, RFC 6587). Best-effort: it never blocks or fails an append; while the
// collector is away, up to 1000 messages wait and the rest are dropped (and counted).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { hostname } from 'node:os';
import type { AuditRecord } from './record.js';

const FACILITY_AUTHPRIV = 10;
const MAX_QUEUE = 1000;
const RECONNECT_MS = 5000;

function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** One RFC 5424 message: `<PRI>1 TIMESTAMP HOST roomguard PID TYPE - BOM{json}`. */
export function syslogMessage(record: AuditRecord, line: string, host = hostname(), pid = process.pid): string {
  const severity = record.outcome === 'failure' || record.outcome === 'deny' ? 5 : 6;
  const pri = FACILITY_AUTHPRIV * 8 + severity;
  return `<${pri}>1 ${record.ts} ${printable(host, 255)} roomguard ${pid} ${printable(record.type, 32)} - \ufeff${line.trimEnd()}`;
}

export class SyslogSink {
  readonly #protocol: 'udp' | 'tcp';
  readonly #host: string;
  readonly #port: number;
  readonly #onError: (err: Error) => void;
  #udp: UdpSocket | undefined;
  #tcp: TcpSocket | undefined;
  #connected = false;
  #queue: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  dropped = 0;

  constructor(url: string, onError: (err: Error) => void = () => undefined) {
    const match = /^(udp|tcp):\/\/(\[[^\]]+\]|[^/:]+):(\d{1,5})$/.exec(url);
    if (!match) throw new TypeError(`audit.syslog: "${url}" is not udp://host:port or tcp://host:port`);
    this.#protocol = match[1] as 'udp' | 'tcp';
    this.#host = match[2]!.replace(/^\[|\]$/g, '');
    this.#port = Number(match[3]);
    this.#onError = onError;
  }

  send(record: AuditRecord, line: string): void {
    if (this.#closed) return;
    const message = syslogMessage(record, line);
    try {
      if (this.#protocol === 'udp') {
        if (!this.#udp) {
          this.#udp = createSocket(this.#host.includes(':') ? 'udp6' : 'udp4');
          this.#udp.on('error', (err) => this.#onError(err));
          this.#udp.unref();
        }
        this.#udp.send(Buffer.from(message), this.#port, this.#host, (err) => {
          if (err) this.#onError(err);
        });
        return;
      }
      const framed = `${Buffer.byteLength(message)} ${message}`;
      if (this.#connected && this.#tcp) {
        this.#tcp.write(framed);
        return;
      }
      if (this.#queue.length >= MAX_QUEUE) this.dropped++;
      else this.#queue.push(framed);
      this.#connectTcp();
    } catch (err) {
      this.#onError(err as Error);
    }
  }

  #connectTcp(): void {
    if (this.#tcp || this.#timer || this.#closed) return;
    const socket = connect({ host: this.#host, port: this.#port });
    this.#tcp = socket;
    socket.unref();
    socket.on('connect', () => {
      this.#connected = true;
      for (const framed of this.#queue.splice(0)) socket.write(framed);
    });
    socket.on('error', (err) => this.#onError(err));
    socket.on('close', () => {
      this.#connected = false;
      this.#tcp = undefined;
      if (this.#closed) return;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#queue.length > 0) this.#connectTcp();
      }, RECONNECT_MS);
      this.#timer.unref();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#udp?.close();
    this.#udp = undefined;
    const tcp = this.#tcp;
    if (!tcp) return;
    if (!this.#connected) {
      tcp.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        tcp.destroy();
        resolve();
      }, 1000);
      tcp.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
