// Issue 15, class 8: one person cannot make the store hold sessions without bound by logging in again and
// again. With session.maxPerPerson 2, a third login ends the oldest session on every instance (its
// WebSocket on the other instance closes), records it in the audit log, and leaves the newest two and
// everyone else's alone. Two gateways on real Redis, the real IdP, a real WebSocket upstream.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditEvent } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let a: Rig;
let b: Rig;
const events: AuditEvent[] = [];
const audit: AuditSink = { healthy: true, append: async (event) => void events.push(event) };

beforeAll(async () => {
  const extra = { session: { maxPerPerson: 2 } };
  a = await startRig({ store: inject('redisUrl'), config: extra, gateway: { audit, logger: false } });
  b = await startRig({ store: inject('redisUrl'), sameAs: a, config: extra, gateway: { logger: false } });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

async function signedIn(user: string): Promise<string> {
  const { browser, final } = await loginAs(a.origin, user);
  expect(final.status).toBe(200);
  await final.arrayBuffer();
  return browser.jar.header(new URL(a.origin))!;
}

async function statusOn(rig: Rig, cookie: string): Promise<number> {
  const res = await fetch(`${rig.origin}/rooms/town-hall`, { headers: { cookie }, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

/** Opens a WebSocket into the room; `closed` settles when the gateway closes it. */
function openWebSocket(rig: Rig, cookie: string): Promise<{ closed: Promise<void> }> {
  const ws = new WebSocket(`${rig.origin.replace('http', 'ws')}/rooms/town-hall/ws`, { headers: { cookie } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ closed: new Promise((r) => ws.once('close', () => r())) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('sessions per person (session.maxPerPerson)', () => {
  it('a third login ends the oldest session on every instance, closes its WebSocket there and audits it', async () => {
    const alice = await signedIn('alice');
    const first = await signedIn('bob');
    const second = await signedIn('bob');
    expect(await statusOn(b, first)).toBe(200);
    const { closed } = await openWebSocket(b, first);

    const third = await signedIn('bob');
    await closed; // the other instance heard of the end through the session bus
    expect(await statusOn(b, first)).toBe(302);
    expect(await statusOn(a, first)).toBe(302);
    for (const cookie of [second, third, alice]) for (const rig of [a, b]) expect(await statusOn(rig, cookie)).toBe(200);
    const record = events.find((e) => e.type === 'session.revoked' && e.details?.scope === 'session-limit');
    expect(record).toMatchObject({ outcome: 'success', actor: { sub: 'bob' }, details: { count: 1 } });
  });

  it('keeps ending the oldest: a person never has more than two', async () => {
    const cookies = [];
    for (let i = 0; i < 4; i++) cookies.push(await signedIn('carol'));
    expect(await Promise.all(cookies.map((c) => statusOn(b, c)))).toEqual([302, 302, 200, 200].map((s) => s));
  });
});
