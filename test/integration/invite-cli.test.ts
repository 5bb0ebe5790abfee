// `roomguard invite create|list|revoke` as admins run it: real processes against the real Redis a real
// gateway uses, so an invitation made at the shell opens the room for a guest, shows its use in `list`,
// and `revoke` ends the guest's session at once; every problem is a clear message with an exit code.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';
import { loadConfigText } from '../../src/config/validate.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { queryAudit } from '../../src/audit/query.js';
import { onFreePort } from '../helpers/ports.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';
import { joinAsGuest, openInvitation } from '../helpers/guests.js';
import { runInviteCommand } from '../../src/cli/invite-commands.js';
import { UsageError } from '../../src/cli/cli-args.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const POLICIES = fileURLToPath(new URL('../fixtures/policies-guests', import.meta.url));

function roomguard(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: process.env, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let file: string;
let auditDir: string;
let origin: string;
let gateway: Gateway;
let upstream: EchoUpstream;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-invite-cli-'));
  upstream = await startEchoUpstream();
  const policies = join(dir, 'policies');
  cpSync(POLICIES, policies, { recursive: true });
  auditDir = join(dir, 'audit');
  file = join(dir, 'roomguard.yaml');
  // The gateway the invitations are for (the guest path needs no IdP). The file names its own address
  // (the links point there), so it starts on a port free now, and again on another if that was taken.
  ({ origin, gateway } = await onFreePort(async (port) => {
    const origin = `http://127.0.0.1:${port}`;
    writeFileSync(file, stringify({
      listen: `127.0.0.1:${port}`,
      publicUrl: origin,
      oidc: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' },
      store: { url: inject('redisUrl'), keyPrefix: `rginvitecli:${process.pid}:` },
      policies: { dir: policies, watch: false },
      backend: { upstream: upstream.url },
      audit: { dir: auditDir, instance: 'gw' },
      secrets: { encryptionKey: generateEncryptionKey(), assertionKey: generateAssertionKeyPem(), auditSigningKey: generateAuditSigningKeyPem() },
    }));
    const gateway = await createGateway(loadConfigText(file, readFileSync(file, 'utf8'), {}).config!);
    try {
      await gateway.listen();
    } catch (err) {
      await gateway.close();
      throw err;
    }
    return { origin, gateway };
  }));
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe('roomguard invite', () => {
  it('creates an invitation a guest can use, lists its use, and revoking it signs the guest out at once', async () => {
    const created = roomguard(['invite', 'create', '--room', 'Town-Hall', '--ttl', '2d', '--uses', '2', '--note', 'Auditor visit', '--config', file]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const link = created.stdout.split('\n')[0]!;
    expect(link).toMatch(new RegExp(`^${origin}/_roomguard/guest/town-hall\\?invite=[A-Za-z0-9_-]{32}$`));
    const id = /invitation ([0-9a-f]{16}) for town-hall: 2 use\(s\)/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();

    const guest = await joinAsGuest(link, 'Ines');
    expect(guest.final.status).toBe(200);
    expect(guest.hops[0]).toMatchObject({ status: 303, location: '/rooms/town-hall' });

    const listed = JSON.parse(roomguard(['invite', 'list', '--room', 'town-hall', '--config', file, '--json']).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((i) => i.id === id)).toMatchObject({ note: 'Auditor visit', state: 'active', maxUses: 2, used: 1, usesLeft: 1, createdBy: expect.stringMatching(/^cli:/), admissions: [{ name: 'Ines' }] });
    expect(roomguard(['invite', 'list', '--room', 'town-hall', '--config', file]).stdout).toMatch(new RegExp(`${id}\\s+active\\s+1/2 left[\\s\\S]*used .* by Ines`));

    const revoked = roomguard(['invite', 'revoke', '--room', 'town-hall', '--id', id!.slice(0, 8), '--config', file]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked invitation ${id} of town-hall; ended 1 guest session(s)`);
    // The gateway closes the ended session's open connections; a browser opens a new one.
    const back = await guest.browser.request(`${origin}/rooms/town-hall`).catch(() => guest.browser.request(`${origin}/rooms/town-hall`));
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    expect((await openInvitation(link)).page.status).toBe(410);
    expect(JSON.parse(roomguard(['invite', 'list', '--room', 'town-hall', '--config', file, '--json']).stdout).find((i: { id: string }) => i.id === id)).toMatchObject({ state: 'revoked', revokedBy: expect.stringMatching(/^cli:/) });

    // The shell's actions are in the audit log (a chain of the CLI's own), the guest's in the gateway's.
    const records = await queryAudit(auditDir, {});
    expect(records.some((r) => r.type === 'guest.invite_created' && r.instance === 'gw-cli' && r.details?.invitation === id && r.room === 'town-hall')).toBe(true);
    expect(records.some((r) => r.type === 'guest.invite_revoked' && r.details?.invitation === id && r.details?.guestSessionsEnded === 1)).toBe(true);
    expect(records.some((r) => r.type === 'guest.invite_used' && r.details?.invitation === id && r.instance === 'gw')).toBe(true);
  }, 180_000);

  it('keeps to the room policy: limits, rooms without guests, unknown ids, bad usage', async () => {
    // The same command function the CLI runs, in this process (each spawned CLI costs seconds).
    const run = async (...args: string[]) => {
      const io = { out: '', err: '' };
      const code = await runInviteCommand(args[0], [...args.slice(1), '--config', file], { out: (t) => (io.out += t), err: (t) => (io.err += t) });
      return { code, ...io };
    };
    await expect(run('create', '--room', 'town-hall', '--uses', '11')).rejects.toThrow("--uses: a whole number from 1 to 10 (the room's guests.maxUses)");
    await expect(run('create', '--room', 'town-hall', '--uses', '0')).rejects.toThrow(UsageError);
    await expect(run('create', '--room', 'town-hall', '--ttl', '3d')).rejects.toThrow('--ttl: a duration from 5m to 2d');
    await expect(run('create', '--room', 'town-hall', '--ttl', 'soon')).rejects.toThrow(UsageError);
    await expect(run('create', '--room', 'town-hall', '--note', 'x'.repeat(201))).rejects.toThrow('--note: at most 200 characters');
    const off = await run('create', '--room', 'closed');
    expect(off.code).toBe(1);
    expect(off.err).toContain('does not set guests.invites: true (RG_GUEST_INVITES_OFF)');
    expect((await run('list', '--room', 'nowhere')).err).toContain('no policy matches this room');
    const unknown = await run('revoke', '--room', 'town-hall', '--id', 'abcdef12');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('town-hall has no invitation abcdef12');
    await expect(run('create')).rejects.toThrow('invite create needs --room NAME');
    await expect(run('revoke', '--room', 'town-hall')).rejects.toThrow('invite revoke needs --id ID');
    await expect(run('open', '--room', 'town-hall')).rejects.toThrow('unknown command: invite open');
    await expect(run('create', '--room', 'a/b/c')).rejects.toThrow('is not a room of this generic backend');
    await expect(run('create', '--room', 'town-hall', '--colour', 'red')).rejects.toThrow(UsageError);
    // Defaults: the policy's ttl, and 5 uses.
    const plain = await run('create', '--room', 'town-hall', '--json');
    expect(plain.code).toBe(0);
    const json = JSON.parse(plain.out) as { link: string; maxUses: number; expiresAt: string };
    expect(json.maxUses).toBe(5);
    expect(Date.parse(json.expiresAt) - Date.now()).toBeGreaterThan(47 * 3_600_000);
    // Wrong usage reaches the admin as exit code 2 with the usage text.
    const spawned = roomguard(['invite', 'create', '--room', 'town-hall', '--uses', '11', '--config', file]);
    expect(spawned.code).toBe(2);
    expect(spawned.stderr).toContain('usage: roomguard');
  }, 60_000);

  it('policy explain --guest shows what a guest invited to a room may enter', () => {
    const dir = ['--dir', join(ROOT, 'test/fixtures/policies-guests')];
    const own = roomguard(['policy', 'explain', '--room', 'town-hall', '--guest', 'town-hall', ...dir]);
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/decision:\s+allow/);
    expect(own.stdout).toMatch(/rule:\s+guests\[0\] at .*town-hall\.yaml:10/);
    expect(own.stdout).toMatch(/role:\s+guest/);
    const other = roomguard(['policy', 'explain', '--room', 'open-day', '--guest', 'town-hall', ...dir, '--json']);
    expect(JSON.parse(other.stdout)).toMatchObject({ outcome: 'deny', reasons: ['RG_GUEST_WRONG_ROOM'] });
  }, 120_000);
});
