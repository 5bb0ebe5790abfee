// Pages of the second-factor step and the account page: verify (passkey / code / recovery code),
// enrol (choose, authenticator app with a locally rendered QR code, passkey), recovery codes shown once.
// Accessible: labelled inputs, one-time-code autocomplete, errors announced with role=alert. Written with
// the escaping `html` tag in the one layout; the QR code is re-drawn from its parsed geometry (qr-code.ts).
import { MFA_TEXT } from './i18n.js';
import { html, join, type SafeHtml } from './html.js';
import { layout, type Frame } from './layout.js';
import { qrCodeSvg } from './qr-code.js';
import { formatSpan, formatWhen, zoneOf } from './time.js';
import { browserAndSystem } from './user-agent.js';
import type { Factor } from '../mfa/factors.js';

const WEBAUTHN_SCRIPTS = ['/_roomguard/assets/webauthn-browser.js', '/_roomguard/assets/mfa.js'];

function hidden(fields: Record<string, string>): SafeHtml {
  return join(Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`), '\n');
}

function alertBox(message: string | undefined): SafeHtml {
  return html`<p class="error" role="alert" id="mfa-error"${!message && html` hidden`}>${message}</p>`;
}

/** Which authenticators a room accepts (mfa.authenticators): their names from the FIDO metadata, and whether synced passkeys do. */
export interface AcceptedKeys {
  names?: string[];
  allowSynced: boolean;
}

function acceptedKeys(frame: Frame, accepted: AcceptedKeys | undefined): SafeHtml {
  if (!accepted) return html``;
  const t = MFA_TEXT[frame.lang];
  return html`<div class="accepted">${accepted.names && html`<p>${t.acceptedKeys}</p>
<ul>${join(accepted.names.map((name) => html`<li>${name}</li>`), '\n')}</ul>`}
${!accepted.allowSynced && html`<p>${t.noSynced}</p>`}</div>`;
}

/** Where a step goes back to choose another way: the step page of the room, or the account page. */
function backHref(input: { returnTo: string; room: string }): string {
  return input.room ? `/_roomguard/mfa?${new URLSearchParams({ returnTo: input.returnTo, room: input.room }).toString()}` : input.returnTo;
}

function backLink(frame: Frame, input: { returnTo: string; room: string }): SafeHtml {
  const t = MFA_TEXT[frame.lang];
  return html`<p class="back"><a href="${backHref(input)}">${input.room ? t.otherMethod : t.backToAccount}</a></p>`;
}

function roomLabel(room: string): string {
  try {
    return decodeURIComponent(room);
  } catch {
    return room;
  }
}

/** Names the room and says in plain words why it asks: its rules, and (asking again) how fresh it wants it. */
function whyAsked(frame: Frame, room: string, maxAge?: number): SafeHtml | undefined {
  if (!room) return undefined;
  const t = MFA_TEXT[frame.lang];
  return html`<p class="why">${t.forRoom} <strong>${roomLabel(room)}</strong>: ${maxAge !== undefined ? `${t.whyAgain} ${formatSpan(maxAge, frame.lang)}.` : t.whyAsked}</p>`;
}

export interface VerifyPageInput {
  accepted?: AcceptedKeys;
  csrf: string;
  returnTo: string;
  room: string;
  stepUp: boolean;
  webauthn: boolean;
  totp: boolean;
  recovery: boolean;
  error?: string;
  /** How fresh the room wants the second factor (ms), named when asking again. */
  maxAge?: number;
}

export function verifyPage(frame: Frame, input: VerifyPageInput): string {
  const t = MFA_TEXT[frame.lang];
  const carry = { csrf: input.csrf, returnTo: input.returnTo, room: input.room };
  const sections: SafeHtml[] = [];
  if (input.webauthn) {
    sections.push(html`<section aria-labelledby="key-h"><h2 id="key-h">${t.useKey}</h2>
<button type="button" id="webauthn-authenticate" data-csrf="${input.csrf}" data-return-to="${input.returnTo}" data-room="${input.room}" data-failed="${t.keyFailed}" data-counter="${t.keyCounter}">${t.useKeyButton}</button>
<noscript><p>${t.jsNeeded}</p></noscript></section>`);
  }
  if (input.totp) {
    sections.push(html`<section aria-labelledby="app-h"><h2 id="app-h">${input.webauthn ? t.useApp : t.kindTotp}</h2>
<form method="post" action="/_roomguard/mfa/totp">
${hidden(carry)}
<label for="code">${t.code}</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" maxlength="8" required aria-describedby="code-hint"${!input.webauthn && html` autofocus`}>
<p id="code-hint" class="hint">${t.codeHint}</p>
<button type="submit">${t.confirm}</button>
</form></section>`);
  }
  const recovery = input.recovery && html`<p><a href="/_roomguard/mfa/recovery?${new URLSearchParams({ returnTo: input.returnTo, room: input.room }).toString()}">${t.useRecovery}</a></p>`;
  return layout({ ...frame, scripts: input.webauthn ? WEBAUTHN_SCRIPTS : [] }, t.verifyTitle, html`<h1>${t.verifyTitle}</h1>
<p>${input.stepUp ? t.stepUpIntro : t.verifyIntro}</p>
${acceptedKeys(frame, input.accepted)}
${whyAsked(frame, input.room, input.stepUp ? input.maxAge : undefined)}
${alertBox(input.error)}
${join(sections, '\n')}
${recovery}`);
}

export function recoveryPage(frame: Frame, input: { csrf: string; returnTo: string; room: string; error?: string }): string {
  const t = MFA_TEXT[frame.lang];
  return layout(frame, t.recoveryTitle, html`<h1>${t.recoveryTitle}</h1>
${whyAsked(frame, input.room)}
<p>${t.recoveryIntro}</p>
${alertBox(input.error)}
<form method="post" action="/_roomguard/mfa/recovery">
${hidden({ csrf: input.csrf, returnTo: input.returnTo, room: input.room })}
<label for="recovery">${t.recoveryCode}</label>
<input id="recovery" name="code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="40" required autofocus>
<button type="submit">${t.confirm}</button>
</form>
${backLink(frame, input)}`);
}

export function enrolChoicePage(frame: Frame, input: { returnTo: string; room: string; webauthn: boolean; totp: boolean; accepted?: AcceptedKeys }): string {
  const t = MFA_TEXT[frame.lang];
  const q = new URLSearchParams({ returnTo: input.returnTo, room: input.room }).toString();
  const options: SafeHtml[] = [];
  if (input.webauthn) options.push(html`<li><h2>${t.enrolKey}</h2><p>${t.enrolKeyText}</p><p><a class="button" href="/_roomguard/mfa/webauthn/setup?${q}">${t.start}</a></p></li>`);
  if (input.totp) options.push(html`<li><h2>${t.enrolApp}</h2><p>${t.enrolAppText}</p><p><a class="button" href="/_roomguard/mfa/totp/setup?${q}">${t.start}</a></p></li>`);
  return layout(frame, t.enrolTitle, html`<h1>${t.enrolTitle}</h1>
<p>${t.enrolIntro}</p>
${acceptedKeys(frame, input.accepted)}
${whyAsked(frame, input.room)}
<ul class="choices">${join(options, '\n')}</ul>`);
}

export function totpSetupPage(frame: Frame, input: { csrf: string; returnTo: string; room: string; qrSvg: string; secret: string; error?: string; defaultName: string }): string {
  const t = MFA_TEXT[frame.lang];
  const grouped = input.secret.match(/.{1,4}/g)!.join(' ');
  return layout(frame, t.appTitle, html`<h1>${t.appTitle}</h1>
${whyAsked(frame, input.room)}
${alertBox(input.error)}
<ol class="steps">
<li><p>${t.appStep1}</p><div class="qr" role="img" aria-label="${t.qrLabel}">${qrCodeSvg(input.qrSvg)}</div></li>
<li><p>${t.appStep2}</p><p><code class="secret" aria-label="${input.secret.split('').join(' ')}">${grouped}</code></p></li>
<li><p>${t.appStep3}</p>
<form method="post" action="/_roomguard/mfa/totp/setup">
${hidden({ csrf: input.csrf, returnTo: input.returnTo, room: input.room })}
<label for="code">${t.code}</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" maxlength="8" required>
<label for="name">${t.factorName}</label>
<input id="name" name="name" type="text" maxlength="60" value="${input.defaultName}">
<button type="submit">${t.confirm}</button>
</form></li>
</ol>
${backLink(frame, input)}`);
}

export function webauthnSetupPage(frame: Frame, input: { csrf: string; returnTo: string; room: string; defaultName: string; accepted?: AcceptedKeys }): string {
  const t = MFA_TEXT[frame.lang];
  return layout({ ...frame, scripts: WEBAUTHN_SCRIPTS }, t.keyTitle, html`<h1>${t.keyTitle}</h1>
${whyAsked(frame, input.room)}
<p>${t.keyIntro}</p>
${acceptedKeys(frame, input.accepted)}
${alertBox(undefined)}
<label for="name">${t.factorName}</label>
<input id="name" name="name" type="text" maxlength="60" value="${input.defaultName}">
<button type="button" id="webauthn-register" data-csrf="${input.csrf}" data-return-to="${input.returnTo}" data-room="${input.room}" data-failed="${t.keyFailed}">${t.keyButton}</button>
<noscript><p>${t.jsNeeded}</p></noscript>
${backLink(frame, input)}`);
}

export function recoveryCodesPage(frame: Frame, input: { codes: string[]; continueTo: string }): string {
  const t = MFA_TEXT[frame.lang];
  return layout(frame, t.codesTitle, html`<h1>${t.codesTitle}</h1>
<p>${t.codesIntro}</p>
<ol class="codes">${input.codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p><a class="button" href="${input.continueTo}">${t.codesDone}</a></p>`);
}

export function idpOnlyPage(frame: Frame, loginHref: string): string {
  const t = MFA_TEXT[frame.lang];
  return layout(frame, t.idpOnlyTitle, html`<h1>${t.idpOnlyTitle}</h1>\n<p>${t.idpOnlyText}</p>\n<p><a class="button" href="${loginHref}">${t.continue}</a></p>`);
}

export interface AccountPageInput {
  csrf: string;
  factors: Factor[];
  recoveryLeft: number | undefined;
  message?: string;
  sessions?: Array<{ current: boolean; createdAt: number; lastSeenAt: number; userAgent?: string; address?: string }>;
}

function when(frame: Frame, ms: number | undefined, never: string): string {
  if (!ms) return never;
  return formatWhen(ms, frame.lang, zoneOf(frame));
}

/** "Firefox on Windows (this session)", then the network it signed in from and when it was last used. */
function sessionItem(frame: Frame, s: NonNullable<AccountPageInput['sessions']>[number]): SafeHtml {
  const t = MFA_TEXT[frame.lang];
  const { browser, system } = browserAndSystem(s.userAgent);
  return html`<li><strong>${browser ?? t.unknownBrowser}</strong> ${t.sessionOn} ${system ?? t.unknownSystem}${s.current && html` <strong>(${t.thisSession})</strong>`}<br>
<small>${t.lastUsed} ${when(frame, s.lastSeenAt, t.never)} · ${t.signedInAt} ${when(frame, s.createdAt, t.never)}${s.address && html` · ${t.network} <code>${s.address}</code>`}</small></li>`;
}

export function accountPage(frame: Frame, input: AccountPageInput): string {
  const t = MFA_TEXT[frame.lang];
  const rows = input.factors.map((f) => html`<li class="factor">
<p><strong>${f.name}</strong> · ${f.kind === 'totp' ? t.kindTotp : t.kindWebauthn}<br>
<small>${t.created} ${when(frame, f.createdAt, t.never)} · ${t.lastUsed} ${when(frame, f.lastUsedAt, t.never)}</small></p>
<form method="post" action="/_roomguard/account/rename" class="inline">
${hidden({ csrf: input.csrf, id: f.id })}
<label for="name-${f.id}" class="visually-hidden">${t.factorName}</label>
<input id="name-${f.id}" name="name" maxlength="60" value="${f.name}">
<button type="submit" class="secondary">${t.rename}</button>
</form>
<form method="post" action="/_roomguard/account/remove" class="inline">
${hidden({ csrf: input.csrf, id: f.id })}
<button type="submit" class="danger" aria-label="${t.remove}: ${f.name}">${t.remove}</button>
</form>
</li>`);
  const sessions = input.sessions
    && html`<h2>${t.sessionsTitle}</h2><ul class="sessions">${input.sessions.map((s) => sessionItem(frame, s))}</ul>
<form method="post" action="/_roomguard/account/end-others">${hidden({ csrf: input.csrf })}<button type="submit" class="secondary">${t.endOthers}</button></form>`;
  return layout(frame, t.accountTitle, html`<h1>${t.accountTitle}</h1>
${input.message && html`<p role="status" class="ok">${input.message}</p>`}
<h2>${t.factors}</h2>
${rows.length ? html`<ul class="factors">${join(rows, '\n')}</ul>` : html`<p>${t.noFactors}</p>`}
<p><a class="button" href="/_roomguard/mfa/webauthn/setup?returnTo=%2F_roomguard%2Faccount">${t.addKey}</a>
<a class="button secondary" href="/_roomguard/mfa/totp/setup?returnTo=%2F_roomguard%2Faccount">${t.addApp}</a></p>
${input.recoveryLeft !== undefined && html`<p>${t.recoveryLeft}: <strong>${input.recoveryLeft}</strong></p>`}
<form method="post" action="/_roomguard/account/recovery-codes">${hidden({ csrf: input.csrf })}<button type="submit" class="secondary">${t.newCodes}</button></form>
${sessions}`);
}
