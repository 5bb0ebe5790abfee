// Time-boxed rooms from the command line and through `roomguard serve` (issue 20 §2): `policy check`
// refuses a broken schedule with file:line, `policy explain --at` judges at that moment, and a served
// gateway with the generic, Jitsi and BBB backends refuses a room outside its times and admits inside.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startServeRig, type Rig } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const ROOT = new URL('../..', import.meta.url).pathname;
// Fresh Node processes compiling TypeScript: the limit is about the machine, not about roomguard.
vi.setConfig({ testTimeout: 120_000 });

function roomguard(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-schedule-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const EXAM = 'rooms: [exam]\nallow:\n  - groups: [staff]\nschedule:\n  timeZone: Europe/Berlin\n  windows: ["2026-12-10T09:00/11:00"]\n  opensBefore: 15m\n';

describe('roomguard policy check / explain on schedules', () => {
  it('refuses a broken schedule with file:line and field, and exits 1', () => {
    const dir = policyDir({
      'exam.yaml': 'rooms: [exam]\nallow:\n  - groups: [staff]\nschedule:\n  timeZone: Mars/Olympus\n  windows: ["2026-12-10T11:00/09:00"]\n',
      'weekly.yaml': 'rooms: [weekly]\nallow:\n  - groups: [staff]\nschedule:\n  timeZone: UTC\n  rrule: "RRULE:FREQ=WEEKLY"\n  duration: 1h\n',
    });
    const out = roomguard(['policy', 'check', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/exam\.yaml:5: schedule\.timeZone: "Mars\/Olympus" is not a time zone/);
    expect(out.stdout).toMatch(/exam\.yaml:6: schedule\.windows\[0\]: the window ends before it starts/);
    expect(out.stdout).toMatch(/weekly\.yaml:6: schedule\.rrule: needs a DTSTART line/);
  });

  it('refuses a broken mfa.authenticators with file:line too', () => {
    const dir = policyDir({ 'court.yaml': 'rooms: [court]\nallow:\n  - anyone: true\nmfa:\n  phishingResistant: true\n  methods: [webauthn, totp]\n  authenticators:\n    aaguids: [yubikey]\n    allowSynced: nope\n' });
    const out = roomguard(['policy', 'check', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/court\.yaml:6: mfa\.methods: a phishing-resistant room accepts only webauthn/);
    expect(out.stdout).toMatch(/court\.yaml:8: mfa\.authenticators\.aaguids\[0\]: "yubikey" is not an AAGUID/);
    expect(out.stdout).toMatch(/court\.yaml:9: mfa\.authenticators\.allowSynced: must be true or false/);
  });

  it('accepts a good schedule, and explains the room open and closed with --at', () => {
    const dir = policyDir({ 'exam.yaml': EXAM });
    expect(roomguard(['policy', 'check', dir]).code).toBe(0);
    const open = roomguard(['policy', 'explain', '--dir', dir, '--room', 'exam', '--email', 'bob@example.org', '--groups', 'staff', '--at', '2026-12-10T09:30+01:00']);
    expect(open.code).toBe(0);
    expect(open.stdout).toMatch(/decision:\s+allow/);
    expect(open.stdout).toMatch(/schedule:\s+open; closes at 2026-12-10T10:00:00.000Z/);
    const early = roomguard(['policy', 'explain', '--dir', dir, '--room', 'exam', '--email', 'bob@example.org', '--groups', 'staff', '--at', '2026-12-10T07:00:00Z', '--json']);
    expect(JSON.parse(early.stdout)).toMatchObject({ outcome: 'deny', reasons: ['RG_ROOM_NOT_OPEN'], schedule: { open: false, opensAt: Date.parse('2026-12-10T07:45:00Z') } });
  });

  it('refuses an --at without a zone, which would be ambiguous', () => {
    const dir = policyDir({ 'exam.yaml': EXAM });
    const out = roomguard(['policy', 'explain', '--dir', dir, '--room', 'exam', '--groups', 'staff', '--at', '2026-12-10T09:30']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--at: "2026-12-10T09:30" is not an ISO 8601 date and time with Z or an offset/);
  });
});

const T0 = Date.now();
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16) + 'Z';
const SERVED = {
  'now.yaml': `rooms: [now]\nallow:\n  - groups: [staff]\nschedule:\n  timeZone: Europe/Berlin\n  windows: ["${iso(T0 - 3_600_000)}/PT3H"]\n`,
  'later.yaml': `rooms: [later]\nallow:\n  - groups: [staff]\nschedule:\n  timeZone: Europe/Berlin\n  windows: ["${iso(T0 + 3 * 3_600_000)}/PT1H"]\n`,
};
const JITSI = { appId: 'roomguard', appSecret: 'jitsi-app-secret-shared-with-prosody-0123456789', audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name'], features: [] };
const BBB_SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';

describe('roomguard serve with time-boxed rooms', () => {
  const rigs: Array<Rig<ServeProcess, { url: string }>> = [];
  let bbb: FakeBbb | undefined;
  afterAll(async () => {
    for (const rig of rigs) await rig.close();
    await bbb?.close();
  });

  async function served(backend: 'generic' | 'jitsi' | 'bbb'): Promise<{ rig: Rig<ServeProcess, { url: string }>; path: (room: string) => string }> {
    const policiesDir = policyDir(SERVED);
    if (backend === 'generic') {
      const rig = await startServeRig({ policiesDir });
      rigs.push(rig);
      return { rig, path: (room) => `/rooms/${room}` };
    }
    if (backend === 'jitsi') {
      const rig = await startServeRig({ policiesDir, config: { backend: { type: 'jitsi', jitsi: JITSI } } });
      rigs.push(rig);
      return { rig, path: (room) => `/${room}` };
    }
    bbb = await startFakeBbb(BBB_SECRET);
    const rig = await startServeRig({ upstream: bbb, policiesDir, config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '60s' } } } });
    rigs.push(rig);
    return { rig, path: (room) => `/rooms/${room}` };
  }

  for (const backend of ['generic', 'jitsi', 'bbb'] as const) {
    it(`${backend}: admits to the room inside its window and refuses the one outside with the page`, async () => {
      const { rig, path } = await served(backend);
      const browser = new ScriptedBrowser({ accept: 'text/html' });
      const start = await browser.follow(`${rig.origin}${path('now')}`);
      const inside = await browser.submitLogin(start.final, 'bob', 'demo');
      expect(inside.final.status).toBe(200);
      const outside = await browser.follow(`${rig.origin}${path('later')}`);
      expect(outside.final.status).toBe(403);
      const page = await outside.final.text();
      expect(page).toContain('RG_ROOM_NOT_OPEN');
      expect(page).toContain(`datetime="${new Date(Date.parse(iso(T0 + 3 * 3_600_000))).toISOString()}"`);
    });
  }
});
