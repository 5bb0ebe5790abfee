// The second-factor step and enrolment: verify with a passkey/security key, an authenticator code or a
// recovery code; enrol the first factor (after a fresh IdP login) or another one (after a current second
// factor); recovery codes shown once. Attempts are limited across instances; every outcome is audited.
// One named handler per step; the shared machinery is in mfa-step.ts, the passkey routes in webauthn-routes.ts.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { RoomguardError } from '../errors.js';
import { MAX_FACTORS_PER_PERSON, newFactorId, userKey, type TotpFactor, type UserFactors } from '../mfa/factors.js';
import { checkTotp, newTotpSecret, totpUri } from '../mfa/totp.js';
import { matchRecoveryCode } from '../mfa/recovery.js';
import { MFA_TEXT } from '../ui/i18n.js';
import { enrolChoicePage, idpOnlyPage, recoveryCodesPage, recoveryPage, totpSetupPage, verifyPage } from '../ui/mfa-pages.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import {
  CODE_FIELD, FACTOR_NAME_FIELD, STEP_CHECKED, STEP_FORM, STEP_QUERY, afterEnrolment, cleanName, codeOf, confirmed, defaultName, enrolmentGate, failed, postedStep, refuseIfLocked, requirementFor, stepInput, acceptedFactors, acceptedKeysOf,
  type Requirement, type StepInput,
} from './mfa-step.js';
import { registerWebauthnRoutes } from './webauthn-routes.js';

/** A used recovery code stays claimed as long as a factor document can live. */
const RECOVERY_CLAIM_TTL_MS = 400 * 86_400_000;
/** Two requests racing with the same authenticator code: the claim on its time step outlives the code's window. */
const TOTP_STEP_CLAIM_TTL_MS = 3 * 60_000;

const STEP_PAGE = routeInput({ querystring: STEP_QUERY }, STEP_CHECKED);
const CODE_SENT = routeInput({ body: { type: 'object', properties: { ...STEP_FORM.properties, code: CODE_FIELD } } }, STEP_CHECKED);
const TOTP_ENROLMENT = routeInput({ body: { type: 'object', properties: { ...STEP_FORM.properties, code: CODE_FIELD, name: FACTOR_NAME_FIELD } } }, STEP_CHECKED);

export function registerMfaRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  route(app, 'GET', '/_roomguard/mfa', STEP_PAGE, (request, reply) => showStep(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/totp', CODE_SENT, (request, reply) => verifyTotp(ctx, request, reply));
  route(app, 'GET', '/_roomguard/mfa/totp/setup', STEP_PAGE, (request, reply) => showTotpSetup(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/totp/setup', TOTP_ENROLMENT, (request, reply) => enrolTotp(ctx, request, reply));
  route(app, 'GET', '/_roomguard/mfa/recovery', STEP_PAGE, (request, reply) => showRecovery(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/recovery', CODE_SENT, (request, reply) => useRecoveryCode(ctx, request, reply));
  route(app, 'GET', '/_roomguard/mfa/recovery-codes', STEP_PAGE, (request, reply) => showRecoveryCodes(ctx, request, reply));
  registerWebauthnRoutes(app, ctx);
}

/** The step page: verify with a factor the room accepts, or choose one to enrol. */
async function showStep(ctx: GatewayContext, request: ValidRequest<typeof STEP_PAGE>, reply: FastifyReply) {
  const input = await stepInput(ctx, request, reply, request.query);
  if (!input) return reply;
  const requirement = requirementFor(ctx, input);
  if (!requirement) return reply.redirect(input.returnTo, 302);
  const user = userKey(input.session.data.identity.sub);
  if (await refuseIfLocked(ctx, request, reply, user)) return reply;
  const doc = await ctx.factors.load(user);
  const accepted = acceptedKeysOf(ctx, requirement);
  // Only a passkey the room accepts is offered; with none, the person adds one (the list says which).
  const webauthn = requirement.methods.includes('webauthn') && acceptedFactors(doc, requirement).factors.some((f) => f.kind === 'webauthn');
  const totp = requirement.methods.includes('totp') && doc.factors.some((f) => f.kind === 'totp');
  if (webauthn || totp) {
    return ctx.page(request, reply, (frame) => verifyPage(frame, {
      csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, stepUp: requirement.stepUp, webauthn, totp, ...(requirement.maxAge !== undefined ? { maxAge: requirement.maxAge } : {}), recovery: Boolean(doc.recovery?.hashes.length) && requirement.methods.includes('totp'),
      ...(accepted ? { accepted } : {}),
    }));
  }
  const canEnrol = requirement.methods.filter((m) => m === 'webauthn' || m === 'totp');
  if (canEnrol.length === 0) return ctx.page(request, reply, (frame) => idpOnlyPage(frame, ctx.loginHref(input.returnTo, true)));
  if (!(await enrolmentGate(ctx, request, reply, input, doc, false))) return reply;
  return ctx.page(request, reply, (frame) => enrolChoicePage(frame, { returnTo: input.returnTo, room: input.room, webauthn: canEnrol.includes('webauthn'), totp: canEnrol.includes('totp'), ...(accepted ? { accepted } : {}) }));
}

/** An authenticator code: counted before it is checked, single use per time step, audited either way. */
async function verifyTotp(ctx: GatewayContext, request: ValidRequest<typeof CODE_SENT>, reply: FastifyReply) {
  const input = await postedStep(ctx, request, reply, request.body);
  if (!input) return reply;
  const requirement = requirementFor(ctx, input);
  if (!requirement) return reply.redirect(input.returnTo, 303);
  if (!requirement.methods.includes('totp')) throw new RoomguardError('RG_MFA_REQUIRED', 'this room does not accept authenticator codes');
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  const authenticators = doc.factors.filter((f): f is TotpFactor => f.kind === 'totp');
  if (authenticators.length === 0) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'no authenticator app');
  if (await refuseIfLocked(ctx, request, reply, user, true)) return reply;
  const claim = await claimTotpCode(ctx, user, authenticators, codeOf(request.body.code));
  if (claim.factor) {
    claim.factor.lastTimeStep = claim.timeStep;
    claim.factor.lastUsedAt = ctx.now();
    await ctx.factors.save(user, doc);
    await confirmed(ctx, request, reply, input, 'totp');
    return reply.redirect(input.returnTo, 303);
  }
  if (await failed(ctx, request, reply, input, 'totp', claim.replay ? 'mfa.replay' : 'mfa.failure', claim.replay ? 'RG_MFA_REPLAY' : 'RG_MFA_INVALID')) return reply;
  return wrongTotpPage(ctx, request, reply, input, requirement, doc, claim.replay);
}

/** The authenticator the code belongs to and the time step it claimed, or whether it was a replay. */
async function claimTotpCode(ctx: GatewayContext, user: string, authenticators: TotpFactor[], code: string): Promise<{ factor: TotpFactor; timeStep: number } | { factor?: undefined; replay: boolean }> {
  let replay = false;
  for (const factor of authenticators) {
    const check = await checkTotp(factor.secret, code, factor.lastTimeStep, ctx.now());
    if (!check.ok) {
      replay ||= check.replay;
      continue;
    }
    // Two requests racing with the same code: only one may claim its time step.
    if (!(await ctx.deps.store.add(`mfa:totp-step:${user}:${factor.id}:${check.timeStep}`, '1', TOTP_STEP_CLAIM_TTL_MS))) {
      replay = true;
      continue;
    }
    return { factor, timeStep: check.timeStep };
  }
  return { replay };
}

function wrongTotpPage(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput, requirement: Requirement, doc: UserFactors, replay: boolean) {
  const t = MFA_TEXT[ctx.lang(request)];
  return ctx.page(request, reply, (frame) => verifyPage(frame, {
    csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, stepUp: requirement.stepUp, ...(requirement.maxAge !== undefined ? { maxAge: requirement.maxAge } : {}),
    webauthn: requirement.methods.includes('webauthn') && doc.factors.some((f) => f.kind === 'webauthn'), totp: true,
    recovery: Boolean(doc.recovery?.hashes.length) && requirement.methods.includes('totp'), error: replay ? t.replayedCode : t.wrongCode,
  }), 422);
}

const pendingTotpKey = (input: StepInput) => `mfa:pending-totp:${input.session.hash}`;

/** The authenticator-app enrolment page: a new secret kept for the session until it is confirmed. */
async function showTotpSetup(ctx: GatewayContext, request: ValidRequest<typeof STEP_PAGE>, reply: FastifyReply) {
  const input = await stepInput(ctx, request, reply, request.query);
  if (!input) return reply;
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  if (!(await enrolmentGate(ctx, request, reply, input, doc, false))) return reply;
  let secret = await ctx.deps.store.get(pendingTotpKey(input));
  if (!secret) {
    secret = newTotpSecret();
    await ctx.deps.store.set(pendingTotpKey(input), secret, ctx.config.mfa.challengeTimeout);
  }
  return renderTotpSetup(ctx, request, reply, input, doc, secret);
}

async function renderTotpSetup(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput, doc: UserFactors, secret: string, error?: string) {
  const label = input.session.data.identity.email ?? input.session.data.identity.sub;
  const qrSvg = await QRCode.toString(totpUri(secret, ctx.config.ui.orgName, label), { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  return ctx.page(request, reply, (frame) => totpSetupPage(frame, {
    csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, qrSvg, secret, defaultName: defaultName(ctx, request, 'totp', doc), ...(error ? { error } : {}),
  }), error ? 422 : 200);
}

/** Confirms the pending secret with a first code from the app and saves it as a factor. */
async function enrolTotp(ctx: GatewayContext, request: ValidRequest<typeof TOTP_ENROLMENT>, reply: FastifyReply) {
  const input = await postedStep(ctx, request, reply, request.body);
  if (!input) return reply;
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  if (!(await enrolmentGate(ctx, request, reply, input, doc, false))) return reply;
  const secret = await ctx.deps.store.get(pendingTotpKey(input));
  if (!secret) return reply.redirect(`/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo: input.returnTo, room: input.room })}`, 303);
  const check = await checkTotp(secret, codeOf(request.body.code), 0, ctx.now());
  if (!check.ok) return renderTotpSetup(ctx, request, reply, input, doc, secret, MFA_TEXT[ctx.lang(request)].wrongCode);
  if (doc.factors.length >= MAX_FACTORS_PER_PERSON) throw new RoomguardError('RG_REQUEST_INVALID', `at most ${MAX_FACTORS_PER_PERSON} factors per person`);
  await ctx.deps.store.delete(pendingTotpKey(input));
  const now = ctx.now();
  doc.factors.push({ kind: 'totp', id: newFactorId(), name: cleanName(request.body.name, defaultName(ctx, request, 'totp', doc)), secret, lastTimeStep: check.timeStep, createdAt: now, lastUsedAt: now });
  await ctx.factors.save(user, doc);
  const session = await confirmed(ctx, request, reply, input, 'totp');
  ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'totp', factors: doc.factors.length } });
  return reply.redirect(await afterEnrolment(ctx, session, doc, input.returnTo), 303);
}

async function showRecovery(ctx: GatewayContext, request: ValidRequest<typeof STEP_PAGE>, reply: FastifyReply) {
  const input = await stepInput(ctx, request, reply, request.query);
  if (!input) return reply;
  return ctx.page(request, reply, (frame) => recoveryPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room }));
}

/** A recovery code: counted before it is checked, claimed once across instances, then spent. */
async function useRecoveryCode(ctx: GatewayContext, request: ValidRequest<typeof CODE_SENT>, reply: FastifyReply) {
  const input = await postedStep(ctx, request, reply, request.body);
  if (!input) return reply;
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  if (!doc.recovery?.hashes.length) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'no recovery codes left');
  if (await refuseIfLocked(ctx, request, reply, user, true)) return reply;
  const index = await matchRecoveryCode(codeOf(request.body.code), doc.recovery.hashes);
  if (index === -1) {
    if (await failed(ctx, request, reply, input, 'recovery', 'mfa.failure', 'RG_MFA_INVALID')) return reply;
    return wrongRecoveryPage(ctx, request, reply, input);
  }
  // Two requests racing with the same code: only one may claim it (single use, ASVS 2.6.1).
  const claimed = await ctx.deps.store.add(`mfa:recovery-used:${user}:${createHash('sha256').update(doc.recovery.hashes[index]!).digest('hex')}`, '1', RECOVERY_CLAIM_TTL_MS);
  if (!claimed) {
    if (await failed(ctx, request, reply, input, 'recovery', 'mfa.replay', 'RG_MFA_REPLAY')) return reply;
    return wrongRecoveryPage(ctx, request, reply, input);
  }
  doc.recovery.hashes.splice(index, 1);
  await ctx.factors.save(user, doc);
  await confirmed(ctx, request, reply, input, 'recovery');
  return reply.redirect(input.returnTo, 303);
}

function wrongRecoveryPage(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput) {
  return ctx.page(request, reply, (frame) => recoveryPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, error: MFA_TEXT[frame.lang].wrongRecovery }), 422);
}

/** New recovery codes, shown once: the page can be opened a single time after they were made. */
async function showRecoveryCodes(ctx: GatewayContext, request: ValidRequest<typeof STEP_PAGE>, reply: FastifyReply) {
  const input = await stepInput(ctx, request, reply, request.query);
  if (!input) return reply;
  const raw = await ctx.deps.store.take(`mfa:show-codes:${input.session.hash}`);
  if (!raw) return reply.redirect(input.returnTo, 302);
  return ctx.page(request, reply, (frame) => recoveryCodesPage(frame, { codes: JSON.parse(raw) as string[], continueTo: input.returnTo }));
}
