// ui.links and ui.timeZone through a running gateway: the organisation's links in the footer of the pages
// participants see (German and English), linked from the shipped town-hall notice, and times in the zone.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signInThrough } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
beforeAll(async () => {
  // The shipped town-hall policy, whose notice refers to the privacy notice as {privacy}.
  const policiesDir = mkdtempSync(join(tmpdir(), 'rg-links-'));
  cpSync(new URL('../../policies/town-hall.yaml', import.meta.url), join(policiesDir, 'town-hall.yaml'));
  rig = await startRig({ policiesDir, config: { ui: { orgName: 'Stadt Beispiel', timeZone: 'Europe/Berlin', links: { privacy: 'https://stadt.example/datenschutz', imprint: 'https://stadt.example/impressum', help: 'https://stadt.example/hilfe' } } } });
});
afterAll(() => rig?.close());

it('links privacy, imprint and help in the footer of a refusal page, in German and in English', async () => {
  const de = await (await fetch(`${rig.origin}/_roomguard/logged-out?lang=de`)).text();
  expect(de).toContain('<a href="https://stadt.example/datenschutz">Datenschutz</a>');
  expect(de).toContain('<a href="https://stadt.example/impressum">Impressum</a>');
  expect(de).toContain('<a href="https://stadt.example/hilfe">Hilfe</a>');
  const en = await (await fetch(`${rig.origin}/_roomguard/logged-out?lang=en`)).text();
  expect(en).toContain('<a href="https://stadt.example/datenschutz">Privacy</a>');
  expect(en).toContain('<a href="https://stadt.example/impressum">Imprint</a>');
});

it('links the privacy notice from the town-hall room notice', async () => {
  const { final } = await signInThrough(rig.origin, 'bob', '/rooms/town-hall', { 'accept-language': 'de', accept: 'text/html' });
  expect(new URL(final.url).pathname).toBe('/_roomguard/notice');
  const page = await final.text();
  expect(page).toContain('(siehe <a href="https://stadt.example/datenschutz">Datenschutz</a>).');
});

it('links them from the page of a request refused before routing (a malformed request)', async () => {
  const { connect } = await import('node:net');
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(rig.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBroken header line\r\n\r\n'));
    let text = '';
    socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(answer).toContain('<a href="https://stadt.example/datenschutz">Privacy</a>');
});
