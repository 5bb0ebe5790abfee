// A moderator revokes an invitation while guests are sending its name form, on two `roomguard serve`
// processes sharing one real Redis (issue 15, class 7). Whatever the interleaving, once the revocation
// has answered and the guests' requests have settled, no guest session of that invitation opens the room
// on either instance, and the audit log accounts for every session: the revocation's guestSessionsEnded
// counts the admitted guests plus the late ones whose session it ended before their request could.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { tokenHash } from '../../src/guests/invitations.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { startServeRig, type Rig } from '../helpers/rig.js';
import { HTML, createInvitation, csrfOf, openInvitation, openInvitesPage, type GuestVisit } from '../helpers/guests.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-guests', import.meta.url));
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** Rounds of guests racing one revocation, and guests per round (town-hall allows 10 uses a link). */
const ROUNDS = 16;
const GUESTS = 8;

vi.setConfig({ testTimeout: 240_000 });

let rig: Rig<ServeProcess>;
let a: ServeProcess;
let b: ServeProcess;
const auditDirs: string[] = [];

beforeAll(async () => {
  const policiesDir = mkdtempSync(join(tmpdir(), 'rg-race-policies-'));
  cpSync(POLICIES, policiesDir, { recursive: true });
  for (let i = 0; i < 2; i++) auditDirs.push(mkdtempSync(join(tmpdir(), 'rg-race-audit-')));
  // Two instances, each on its own address, with an audit log each.
  rig = await startServeRig({ policiesDir, instances: auditDirs.map((auditDir) => ({ auditDir })) });
  [a, b] = rig.instances.map((instance) => instance.gateway) as [ServeProcess, ServeProcess];
}, 90_000);

afterAll(async () => {
  await rig?.close();
});

async function audit(type: string): Promise<AuditRecord[]> {
  return (await Promise.all(auditDirs.map((dir) => queryAudit(dir, { type: type as never })))).flat();
}

/** Sends the name form of `visit` to `origin` without following: the 303 into the room, or the refusal. */
function sendName(visit: GuestVisit, origin: string, token: string, name: string): Promise<Response> {
  return visit.browser.request(`${origin}/_roomguard/guest/town-hall`, {
    method: 'POST', headers: FORM, body: new URLSearchParams({ csrf: csrfOf(visit.pageHtml), invite: token, name }).toString(),
  });
}

/** Whether `cookie` opens the room on `origin` (the upstream answers) rather than being sent to login. */
async function opensRoom(origin: string, cookie: string): Promise<boolean> {
  const res = await fetch(`${origin}/rooms/town-hall`, { headers: { ...HTML, cookie }, redirect: 'manual' });
  await res.arrayBuffer();
  if (res.status === 302) expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login/);
  else expect(res.status).toBe(200);
  return res.status === 200;
}

describe('revoking an invitation while guests use it (two instances, real Redis)', () => {
  it('after the revocation has answered no guest of it opens the room anywhere, and the audit counts add up', async () => {
    const moderator = await openInvitesPage(a.origin, 'town-hall', 'alice', new ScriptedBrowser(HTML));
    expect(moderator.status).toBe(200);
    const mod = moderator.browser;
    const invitations: Array<{ id: string; admitted: number }> = [];
    let raced = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const created = await createInvitation(mod, a.origin, 'town-hall', { uses: '10', note: `race ${round}` });
      expect(created.link).toBeDefined();
      const token = new URL(created.link!).searchParams.get('invite')!;
      const id = tokenHash(token).slice(0, 16);
      // Each guest opens the link on one instance and sends the form to the other (a load balancer may).
      const visits = await Promise.all(Array.from({ length: GUESTS }, (_, g) => openInvitation(`${(g % 2 ? b : a).origin}/_roomguard/guest/town-hall?invite=${token}`)));
      for (const visit of visits) expect(visit.page.status).toBe(200);
      const page = await (await mod.request(`${a.origin}/_roomguard/rooms/town-hall/invites`)).text();

      // The forms go out together; the revocation (on A or B, by round) follows after a few milliseconds,
      // different each round, so that it lands before, among and after the guests' steps.
      const sent = visits.map((visit, g) => sendName(visit, (g % 2 ? a : b).origin, token, `Guest ${round}-${g}`));
      await new Promise((resolve) => setTimeout(resolve, (round * 7) % 40));
      const revokeOn = round % 2 ? b : a;
      const revoked = await mod.request(`${revokeOn.origin}/_roomguard/rooms/town-hall/invites/revoke`, {
        method: 'POST', headers: FORM, body: new URLSearchParams({ csrf: csrfOf(page), id }).toString(),
      });
      expect(revoked.status).toBe(303);
      const answers = await Promise.all(sent);

      let admitted = 0;
      for (const [g, answer] of answers.entries()) {
        await answer.arrayBuffer();
        if (answer.status === 303) admitted++;
        else expect(answer.status, `guest ${g} of round ${round}`).toBe(410);
        // Whatever the guest was told, the cookie it holds (if any) opens the room on neither instance.
        const cookie = visits[g]!.browser.jar.header(new URL(`${a.origin}/rooms/town-hall`));
        if (cookie) {
          expect(await opensRoom(a.origin, cookie), `guest ${g} of round ${round} on A`).toBe(false);
          expect(await opensRoom(b.origin, cookie), `guest ${g} of round ${round} on B`).toBe(false);
        }
      }
      if (admitted > 0 && admitted < GUESTS) raced++;
      invitations.push({ id, admitted });
    }

    // The audit log: per invitation, guests let in (guest.invite_used) plus late guests whose session the
    // revocation ended first (guestSession: already-ended) are exactly what the revocation counted.
    await expect.poll(async () => (await audit('guest.invite_revoked')).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(ROUNDS);
    await expect.poll(async () => {
      const [used, refused, revokedRecords] = await Promise.all([audit('guest.invite_used'), audit('guest.invite_refused'), audit('guest.invite_revoked')]);
      return invitations.map(({ id, admitted }) => {
        const usedHere = used.filter((r) => r.details?.invitation === id).length;
        const endedFirst = refused.filter((r) => r.details?.invitation === id && r.details?.guestSession === 'already-ended').length;
        const counted = revokedRecords.filter((r) => r.details?.invitation === id).map((r) => r.details?.guestSessionsEnded);
        return { id, admitted, used: usedHere, counted: counted.length === 1 ? counted[0] : counted, usedPlusEndedFirst: usedHere + endedFirst };
      }).filter((row) => row.used !== row.admitted || row.counted !== row.usedPlusEndedFirst);
    }, { timeout: 10_000 }).toEqual([]);
    // The rounds are spread so that some land in the middle of the guests: otherwise nothing raced.
    expect(raced).toBeGreaterThan(0);
  });
});
