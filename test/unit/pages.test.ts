// Every page roomguard renders, with hostile values in every field it shows: one layout for all of them
// (doctype, language, the shared stylesheets, the header with the language switch, scripts only with the
// response's nonce), and no value that becomes markup.
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { errorPage, noticePage, signedOutPage, signOutPage } from '../../src/ui/pages.js';
import { guestJoinPage, invitesPage } from '../../src/ui/guest-pages.js';
import { accountPage, enrolChoicePage, idpOnlyPage, recoveryCodesPage, recoveryPage, totpSetupPage, verifyPage, webauthnSetupPage } from '../../src/ui/mfa-pages.js';
import { renderAuditPage } from '../../src/ui/audit-page.js';
import { qrCodeSvg } from '../../src/ui/qr-code.js';
import { browserAndSystem } from '../../src/ui/user-agent.js';
import { formatSpan } from '../../src/ui/time.js';
import { languageSwitchHref } from '../../src/ui/page-frames.js';
import type { Frame } from '../../src/ui/layout.js';
import type { AuditRecord } from '../../src/audit/record.js';

const EVIL = `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`;
const frame: Frame = { lang: 'en', orgName: EVIL, hasLogo: true, nonce: 'n0nce', switchHref: `/x?${EVIL}` };
const qrSvg = await QRCode.toString('otpauth://totp/roomguard:alice?secret=JBSWY3DPEHPK3PXP', { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
const record: AuditRecord = {
  v: 1, id: 'r1', ts: '2024-05-01T10:00:00.000Z', seq: 1, instance: EVIL, type: 'room.decision', outcome: 'deny', room: EVIL, role: 'guest',
  actor: { sub: EVIL, iss: EVIL, email: EVIL, name: EVIL }, policy: { file: EVIL, sha256: EVIL, rule: EVIL, line: 3 },
  auth: { methods: [EVIL] }, client: { ip: EVIL, userAgent: EVIL }, reason: 'RG_POLICY_NOT_ALLOWED', details: { reasons: [EVIL] }, prev: '', hash: '',
};

const PAGES: Record<string, () => string> = {
  error: () => errorPage(frame, { code: 'RG_MFA_LOCKED', requestId: EVIL, action: { href: EVIL, label: EVIL }, detail: EVIL }),
  signOut: () => signOutPage(frame, EVIL, EVIL),
  signedOut: () => signedOutPage(frame),
  notice: () => noticePage(frame, { room: encodeURIComponent(EVIL), text: EVIL, csrfToken: EVIL, returnTo: EVIL }),
  guestJoin: () => guestJoinPage(frame, { room: encodeURIComponent(EVIL), action: EVIL, token: EVIL, csrf: EVIL, expiresAt: 0, notice: EVIL, requireName: true, lobby: true, error: EVIL }),
  invites: () => invitesPage(frame, {
    room: encodeURIComponent(EVIL), action: EVIL, roomPath: EVIL, csrf: EVIL, limits: { ttl: 3_600_000, maxUses: 5 }, created: { link: EVIL }, message: EVIL, error: EVIL, recentSince: 0,
    invitations: [{ id: EVIL, room: EVIL, note: EVIL, createdAt: 1, createdBy: EVIL, expiresAt: 2, maxUses: 5, used: 1, usesLeft: 4, state: 'active', admissions: [{ at: 1, name: EVIL }] }],
  }),
  verify: () => verifyPage(frame, { csrf: EVIL, returnTo: EVIL, room: EVIL, stepUp: true, webauthn: true, totp: true, recovery: true, error: EVIL }),
  recovery: () => recoveryPage(frame, { csrf: EVIL, returnTo: EVIL, room: EVIL, error: EVIL }),
  enrolChoice: () => enrolChoicePage(frame, { returnTo: EVIL, room: EVIL, webauthn: true, totp: true }),
  totpSetup: () => totpSetupPage(frame, { csrf: EVIL, returnTo: EVIL, room: EVIL, qrSvg, secret: 'JBSWY3DPEHPK3PXP', defaultName: EVIL, error: EVIL }),
  webauthnSetup: () => webauthnSetupPage(frame, { csrf: EVIL, returnTo: EVIL, room: EVIL, defaultName: EVIL }),
  recoveryCodes: () => recoveryCodesPage(frame, { codes: [EVIL], continueTo: EVIL }),
  idpOnly: () => idpOnlyPage(frame, EVIL),
  account: () => accountPage(frame, { csrf: EVIL, factors: [{ id: EVIL, kind: 'totp', name: EVIL, createdAt: 1, secret: '' } as never], recoveryLeft: 2, message: EVIL, sessions: [{ current: true, createdAt: 1, lastSeenAt: 1, userAgent: EVIL }] }),
  audit: () => renderAuditPage({ lang: 'en', records: [record], filters: { room: EVIL, user: EVIL, since: EVIL }, invalid: [EVIL], chainStatus: { ok: false, checkedAt: '2024-05-02T00:00:00.000Z', records: 1, problems: 1, firstProblem: EVIL, signatures: 'checked' }, csrfToken: EVIL, nonce: 'n0nce', orgName: EVIL, basePath: `/_roomguard/audit${EVIL}` }),
};

describe('pages', () => {
  it.each(Object.keys(PAGES))('%s: in the one layout, with every value escaped', (name) => {
    const page = PAGES[name]!();
    expect(page).toMatch(/^<!doctype html>\n<html lang="en">\n<head>\n/);
    expect(page).toContain('<link rel="stylesheet" href="/_roomguard/assets/style.css">\n<link rel="stylesheet" href="/_roomguard/assets/theme.css">\n');
    expect(page).toMatch(/<header class="brand">\n(<img [^>]*>)?<span>&lt;script&gt;alert\(1\)&lt;\/script&gt;[^<]*<\/span>\n<a class="lang" href="[^"]*" hreflang="de" lang="de">Deutsch<\/a>\n<\/header>\n<main class="(card|audit)">\n/);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    // Every element is one the page's code wrote, and every script carries the response's nonce.
    for (const [tag] of page.matchAll(/<[a-z][^>]*>/g)) expect(tag.replace(/"[^"]*"|'[^']*'/g, '""')).not.toMatch(/\son[a-z]+=|\ssrc=x/);
    for (const [tag] of page.matchAll(/<script\b[^>]*>/g)) expect(tag).toMatch(/^<script nonce="n0nce" src="\/_roomguard\/assets\/[a-z-]+\.js">$/);
  });

  it('shows scripts only on the pages that need them (WebAuthn), each with the nonce', () => {
    expect(PAGES.verify!()).toContain('<script nonce="n0nce" src="/_roomguard/assets/webauthn-browser.js"></script>\n<script nonce="n0nce" src="/_roomguard/assets/mfa.js"></script>');
    expect(PAGES.error!()).not.toContain('<script');
    expect(PAGES.audit!()).not.toContain('<script');
  });

  it('keeps the reviewer page out of search engines, with its own stylesheet', () => {
    const page = PAGES.audit!();
    expect(page).toContain('<meta name="robots" content="noindex">');
    expect(page).toContain('<link rel="stylesheet" href="/_roomguard/assets/audit.css">');
    expect(page).toContain('<body class="audit-page">');
    expect(PAGES.error!()).not.toContain('noindex');
  });
});

describe('QR code', () => {
  it('draws the qrcode library\'s SVG again from its geometry, unchanged', () => {
    expect(qrCodeSvg(qrSvg).toString()).toBe(qrSvg);
  });

  it.each([
    ['a script inside', qrSvg.replace('</svg>', '<script>alert(1)</script></svg>')],
    ['an event attribute', qrSvg.replace('<svg ', '<svg onload="alert(1)" ')],
    ['markup in a path', qrSvg.replace('d="M0 0', 'd="M0 0"/><foreignObject><img src=x onerror=alert(1)></foreignObject><path d="M0 0')],
    ['another document', '<p>not a QR code</p>'],
  ])('refuses an SVG with %s', (_name, svg) => {
    expect(() => qrCodeSvg(svg)).toThrow(/unexpected SVG/);
  });
});

describe('links and times (ui.links, ui.timeZone)', () => {
  const linked: Frame = { lang: 'de', orgName: 'Stadt', hasLogo: false, nonce: 'n', switchHref: '/', timeZone: 'Europe/Berlin', links: { privacy: 'https://stadt.example/datenschutz', imprint: 'https://stadt.example/impressum', help: 'mailto:hilfe@stadt.example' } };

  it('puts the privacy, imprint and help links in the footer of every page, in the page\'s language', () => {
    for (const [name, render] of Object.entries({
      error: () => errorPage(linked, { code: 'RG_POLICY_NOT_ALLOWED', requestId: 'r' }),
      signedOut: () => signedOutPage(linked),
      account: () => accountPage(linked, { csrf: 'c', factors: [], recoveryLeft: undefined }),
      audit: () => renderAuditPage({ lang: 'de', records: [], filters: {}, chainStatus: { ok: true, checkedAt: '2024-05-01T10:00:00.000Z', records: 0, problems: 0, signatures: 'checked' }, links: linked.links! }),
    })) {
      const page = render();
      expect(page, name).toContain('<footer class="site-links"><nav aria-label="Über diese Website"><ul><li><a href="https://stadt.example/datenschutz">Datenschutz</a></li><li><a href="https://stadt.example/impressum">Impressum</a></li><li><a href="mailto:hilfe@stadt.example">Hilfe</a></li></ul></nav></footer>');
    }
    expect(signedOutPage({ ...linked, lang: 'en' })).toContain('>Privacy</a>');
  });

  it('has no footer when no link is configured, and only the configured ones otherwise', () => {
    expect(signedOutPage({ ...linked, links: {} })).not.toContain('site-links');
    const onlyHelp = signedOutPage({ ...linked, links: { help: 'https://h.example/' } });
    expect(onlyHelp).toContain('>Hilfe</a>');
    expect(onlyHelp).not.toContain('Datenschutz');
  });

  it('turns {privacy}, {imprint} and {help} in a room notice into the links, escaping the rest', () => {
    const page = noticePage(linked, { room: 'board', text: 'Siehe {privacy} und {help}.\n<b>{unknown}</b>', csrfToken: 'c', returnTo: '/board' });
    expect(page).toContain('Siehe <a href="https://stadt.example/datenschutz">Datenschutz</a> und <a href="mailto:hilfe@stadt.example">Hilfe</a>.<br>&lt;b&gt;{unknown}&lt;/b&gt;');
    // Without the link configured the placeholder reads as its label, not as braces.
    expect(noticePage({ ...linked, links: {} }, { room: 'board', text: 'Siehe {imprint}.', csrfToken: 'c', returnTo: '/board' })).toContain('Siehe Impressum.');
  });

  it('shows every time in the configured zone with the zone named', () => {
    const july = Date.UTC(2026, 6, 3, 12, 5);
    const guest = guestJoinPage(linked, { room: 'town-hall', action: '/a', token: 't', csrf: 'c', expiresAt: july, requireName: false, lobby: false });
    expect(guest).toContain('3. Juli 2026, 14:05 MESZ');
    const english = guestJoinPage({ ...linked, lang: 'en', timeZone: 'UTC' }, { room: 'town-hall', action: '/a', token: 't', csrf: 'c', expiresAt: july, requireName: false, lobby: false });
    expect(english).toContain('3 Jul 2026, 12:05 UTC');
    const audit = renderAuditPage({ lang: 'en', records: [{ ...record, ts: '2026-01-15T09:30:00.000Z' }], filters: {}, chainStatus: { ok: true, checkedAt: '2026-01-15T09:31:00.000Z', records: 1, problems: 0, signatures: 'checked' }, timeZone: 'Europe/Berlin' });
    expect(audit).toContain('<time datetime="2026-01-15T09:30:00.000Z">2026-01-15 10:30:00 CET</time>');
    expect(audit).not.toContain('Time (UTC)');
  });
});

describe('second-factor pages say which room asks and why, and lead back', () => {
  const de: Frame = { lang: 'de', orgName: 'Org', hasLogo: false, nonce: 'n', switchHref: '/' };
  const en: Frame = { ...de, lang: 'en' };
  const step = { csrf: 'c', returnTo: '/board', room: 'board' };

  it('names the room and the reason on the verify page, and the freshness when asking again', () => {
    const first = verifyPage(en, { ...step, stepUp: false, webauthn: false, totp: true, recovery: false });
    expect(first).toContain('For the room <strong>board</strong>: its rules ask for a second factor on top of your password');
    const again = verifyPage(de, { ...step, stepUp: true, webauthn: true, totp: true, recovery: false, maxAge: 15 * 60_000 });
    expect(again).toContain('Für den Raum <strong>board</strong>: Seine Regeln verlangen eine erneute Bestätigung, wenn Ihre letzte älter ist als 15 Minuten.');
  });

  it('offers a way back to choose another method from the app, key and recovery pages', () => {
    const back = 'href="/_roomguard/mfa?returnTo=%2Fboard&amp;room=board"';
    expect(totpSetupPage(en, { ...step, qrSvg, secret: 'JBSWY3DPEHPK3PXP', defaultName: 'Phone' })).toContain(`<a ${back}>Choose another method</a>`);
    expect(webauthnSetupPage(de, { ...step, defaultName: 'Key' })).toContain(`<a ${back}>Andere Methode wählen</a>`);
    expect(recoveryPage(en, step)).toContain(`<a ${back}>Choose another method</a>`);
    // Enrolling from the account page (no room), the way back is the account page.
    expect(totpSetupPage(en, { csrf: 'c', returnTo: '/_roomguard/account', room: '', qrSvg, secret: 'JBSWY3DPEHPK3PXP', defaultName: 'Phone' })).toContain('<a href="/_roomguard/account">Back to your sign-in methods</a>');
  });

  it('labels the QR code in the page\'s language', () => {
    expect(totpSetupPage(de, { ...step, qrSvg, secret: 'JBSWY3DPEHPK3PXP', defaultName: 'Telefon' })).toContain('aria-label="QR-Code für Ihre Authenticator-App"');
    expect(totpSetupPage(en, { ...step, qrSvg, secret: 'JBSWY3DPEHPK3PXP', defaultName: 'Phone' })).toContain('aria-label="QR code for your authenticator app"');
  });

  it('lists sessions as browser and system with network and last use, not the raw User-Agent', () => {
    const page = accountPage({ ...de, timeZone: 'UTC' }, { csrf: 'c', factors: [], recoveryLeft: undefined, sessions: [
      { current: true, createdAt: Date.UTC(2026, 0, 2, 8), lastSeenAt: Date.UTC(2026, 0, 2, 9), userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', address: '192.0.2.0/24' },
      { current: false, createdAt: Date.UTC(2026, 0, 1, 8), lastSeenAt: Date.UTC(2026, 0, 1, 8) },
    ] });
    expect(page).toContain('<strong>Safari</strong> unter iOS <strong>(diese Sitzung)</strong>');
    expect(page).toContain('zuletzt verwendet 2. Jan. 2026, 09:00 UTC · angemeldet 2. Jan. 2026, 08:00 UTC · Netz <code>192.0.2.0/24</code>');
    expect(page).toContain('<strong>Unbekannter Browser</strong> unter unbekanntem System');
    expect(page).not.toContain('AppleWebKit');
  });

  it('gives a guest\'s refusal no button to "/" (which would lead to the IdP login); others keep it', () => {
    expect(errorPage(en, { code: 'RG_GUEST_INVITE_EXPIRED', requestId: 'r' })).not.toContain('class="button"');
    expect(errorPage(en, { code: 'RG_POLICY_NOT_ALLOWED', requestId: 'r' })).toContain('<a class="button" href="/">Home</a>');
  });
});

describe('browserAndSystem', () => {
  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge', 'Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 'Safari', 'macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome', 'Android'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox', 'Linux'],
    ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1', 'Chrome', 'iPadOS'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0', 'Opera', 'ChromeOS'],
  ])('%s', (ua, browser, system) => {
    expect(browserAndSystem(ua)).toEqual({ browser, system });
  });

  it('says nothing it cannot tell', () => {
    expect(browserAndSystem('curl/8.5.0')).toEqual({});
    expect(browserAndSystem(undefined)).toEqual({});
  });
});

describe('the moderator\'s invitations page', () => {
  const en: Frame = { lang: 'en', orgName: 'Org', hasLogo: false, nonce: 'n0', switchHref: '/', timeZone: 'UTC' };
  const input = {
    room: 'town-hall', action: '/_roomguard/rooms/town-hall/invites', roomPath: '/rooms/town-hall', csrf: 'c', limits: { ttl: 3_600_000, maxUses: 5 }, recentSince: 0,
    invitations: [{ id: 'inv1', room: 'town-hall', note: 'Press', createdAt: 0, createdBy: 'alice', expiresAt: 3_600_000, maxUses: 5, used: 1, usesLeft: 4, state: 'active' as const, admissions: [] }],
  };

  it('offers a copy button for a new link, with its script under the page\'s nonce and a status for the result', () => {
    const page = invitesPage(en, { ...input, created: { link: 'https://meet.example.org/_roomguard/guest/town-hall?invite=abc' } });
    expect(page).toContain('<button type="button" class="secondary" data-copy="invite-link" data-status="invite-copied" data-copied="Link copied." data-failed="Could not copy: select the link and copy it yourself." hidden>Copy link</button>');
    expect(page).toContain('<p id="invite-copied" class="hint" role="status"></p>');
    expect(page).toContain('<script nonce="n0" src="/_roomguard/assets/copy.js"></script>');
    expect(invitesPage(en, input)).not.toContain('copy.js');
  });

  it('labels every cell with its column, so the rows can stack on a phone', () => {
    const page = invitesPage({ ...en, lang: 'de' }, input);
    expect(page).toContain('<table class="stack">');
    for (const label of ['Notiz', 'Erstellt', 'Läuft ab', 'Verbleibend', 'Status', 'Verwendet von', 'Aktion']) expect(page).toContain(`<td data-label="${label}">`);
  });
});

describe('formatSpan', () => {
  it('says a length of time in its largest whole unit, in both languages', () => {
    expect(formatSpan(15 * 60_000, 'en')).toBe('15 minutes');
    expect(formatSpan(60 * 60_000, 'de')).toBe('1 Stunde');
    expect(formatSpan(90 * 60_000, 'de')).toBe('90 Minuten');
    expect(formatSpan(2 * 86_400_000, 'en')).toBe('2 days');
    expect(formatSpan(60_000, 'en')).toBe('1 minute');
  });
});

describe('the language switch link (attack 17, finding 6)', () => {
  it('is a query-only reference, never a path that could name another host', () => {
    for (const target of ['/.//evil.example/x', '/_roomguard/..//evil.example/x', '/%2e//evil.example/', '/a/..//evil.example', '//evil.example/x?y=1']) {
      const href = languageSwitchHref(target, 'https://meet.example.org', 'de');
      expect(href, target).toMatch(/^\?/);
      expect(new URL(href, `https://meet.example.org${target.startsWith('//') ? '/' : target}`).host).toBe('meet.example.org');
    }
    expect(languageSwitchHref('/room/x?a=1&lang=en', 'https://meet.example.org', 'de')).toBe('?a=1&lang=de');
    expect(languageSwitchHref('/%zz\u0000', 'https://meet.example.org', 'en')).toBe('?lang=en');
  });
});
