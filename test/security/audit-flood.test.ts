// No actor can fill the audit disk (a full disk refuses every join) or bury the log in copies of its own
// refusals: an anonymous client, nor a guest (an invitation link away), nor anyone with a session. Beyond
// the refusal budget refusals are counted, and a summary record says how many there were, in which pool.
// Real gateway, real IdP, the real audit writer, read back from disk.
import { afterAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { PER_ACTOR, PER_POOL } from '../../src/gateway/refusal-budget.js';
import { sessionHash } from '../../src/session/sessions.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { HTML, createInvitation, joinAsGuest, openInvitesPage } from '../helpers/guests.js';
import { loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

const rigs: Rig[] = [];

/**
 * A gateway of its own for each test, started by the test: the refusal budget's minute starts with the
 * gateway, so a test that takes seconds runs within one window and its counts are exact.
 */
async function freshRig(): Promise<Rig> {
  const rig = await startRig();
  rigs.push(rig);
  return rig;
}

afterAll(async () => {
  for (const rig of rigs) await rig.close();
});

/** Sends `count` requests in parallel batches (as a flooding client would), each with `cookie`. */
async function flood(rig: Rig, paths: string[], count: number, cookie?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => fetch(`${rig.origin}${paths[(i + j) % paths.length]}`, { redirect: 'manual', headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) } }));
    for (const res of await Promise.all(batch)) {
      statuses.push(res.status);
      await res.body?.cancel();
    }
  }
  return statuses;
}

describe('refusals and the audit log', () => {
  it('writes a client network\'s first refusals one by one and counts the rest in one summary record', async () => {
    const rig = await freshRig();
    const attempts = PER_ACTOR + 60;
    for (let i = 0; i < attempts; i++) {
      const res = await fetch(`${rig.origin}/_roomguard/callback?state=forged-${i}&code=x`, { redirect: 'manual' });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    // Stopping the gateway ends the minute early: the summary is written, nothing goes unaccounted.
    await rig.gateway.close();
    expect(await queryAudit(rig.auditDir, { type: 'login.failure' })).toHaveLength(PER_ACTOR);
    const summaries = await queryAudit(rig.auditDir, { type: 'audit.summary' });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ reason: 'RG_LOGIN_STATE_UNKNOWN', details: { of: 'login.failure', pool: 'anonymous', count: attempts - PER_ACTOR, networks: 1 } });
  });

  it('writes a guest\'s first refusals one by one, however many it sends; guests flooding together do not take a signed-in person\'s record', async () => {
    const rig = await freshRig();
    const mod = await openInvitesPage(rig.origin, 'town-hall', 'alice');
    const invitation = await createInvitation(mod.browser, rig.origin, 'town-hall', { uses: '30', ttl: '1d' });
    // Enough guests, each over its own budget, to use up the guest pool as well.
    const guests = Math.ceil(PER_POOL / PER_ACTOR) + 1;
    const cookies: string[] = [];
    for (let g = 0; g < guests; g++) {
      const guest = await joinAsGuest(invitation.link!, `Visitor ${g}`, new ScriptedBrowser(HTML));
      expect(guest.final.status).toBe(200);
      cookies.push(`roomguard_session=${guest.browser.jar.get('roomguard_session')!.value}`);
    }
    // The attack's spellings: an unknown invitation link, and a page for people with an account.
    const refused = ['/_roomguard/guest/town-hall?invite=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/_roomguard/account'];
    const first = await flood(rig, refused, PER_ACTOR + 40, cookies[0]);
    expect(first.every((s) => s >= 400)).toBe(true);
    for (const cookie of cookies.slice(1)) await flood(rig, refused, PER_ACTOR + 1, cookie);

    // The guest pool is used up; a signed-in person's refusal is still written.
    const bob = await loginAs(rig.origin, 'bob');
    const denied = await bob.browser.request(`${rig.origin}/rooms/board`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
    expect(denied.status).toBe(403);
    await expect.poll(async () => (await queryAudit(rig.auditDir, { type: 'room.decision' })).some((r) => r.outcome === 'deny' && r.actor && 'sub' in r.actor && r.actor.sub === 'bob'), { timeout: 5000 }).toBe(true);

    // Stopping the gateway ends the minute early: the summaries are written, nothing goes unaccounted.
    await rig.gateway.close();
    const records = await queryAudit(rig.auditDir, {});
    // The first guest sent 60 refusals of two kinds: 20 of them have their own record.
    const firstHash = sessionHash(cookies[0]!.split('=')[1]!).slice(0, 16);
    expect(records.filter((r) => r.session === firstHash && r.outcome === 'deny')).toHaveLength(PER_ACTOR);
    const guestRefusals = records.filter((r) => r.outcome === 'deny' && r.type !== 'audit.summary' && r.actor && 'sub' in r.actor && r.actor.sub.startsWith('guest:'));
    expect(guestRefusals).toHaveLength(PER_POOL);
    const summaries = records.filter((r) => r.type === 'audit.summary');
    const guestCounted = summaries.filter((r) => r.details?.pool === 'guest').reduce((n, r) => n + Number(r.details?.count), 0);
    expect(guestCounted).toBe(PER_ACTOR + 40 + (guests - 1) * (PER_ACTOR + 1) - PER_POOL);
    expect(summaries.filter((r) => r.details?.pool === 'guest').every((r) => typeof r.details?.sessions === 'number' && r.details?.perSession === PER_ACTOR)).toBe(true);
    expect(summaries.some((r) => r.details?.pool === 'signed-in')).toBe(false);
  });
});
