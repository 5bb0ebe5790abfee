// The second-factor step and enrolment: verify with a passkey/security key, an authenticator code or a
// recovery code; enrol the first factor (after a fresh IdP login) or another one (after a current second
// factor); recovery codes shown once. Attempts are limited across instances; every outcome is audited.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { RoomguardError } from '../errors.js';
import { safeReturnTo } from '../identity/return-to.js';
import { canonicalRoom } from '../backends/room-name.js';
import { decide } from '../policy/decide.js';
import type { MfaMethod, Subject } from '../policy/types.js';
import type { LoadedSession } from '../session/sessions.js';
import { MAX_FACTORS_PER_PERSON, newFactorId, userKey, type TotpFactor, type UserFactors } from '../mfa/factors.js';
import { checkTotp, newTotpSecret, totpUri } from '../mfa/totp.js';
import { matchRecoveryCode } from '../mfa/recovery.js';
import type { LockState } from '../mfa/limiter.js';
import { MFA_TEXT } from '../ui/i18n.js';
import { enrolChoicePage, idpOnlyPage, recoveryCodesPage, recoveryPage, totpSetupPage, verifyPage, webauthnSetupPage } from '../ui/mfa-pages.js';
import type { GatewayContext } from './context.js';

interface Requirement {
  methods: MfaMethod[];
  userVerification: 'required' | 'preferred';
  stepUp: boolean;
}

interface StepInput {
  session: LoadedSession;
  returnTo: string;
  /** Canonical room the step is for ('' when managing factors). */
  room: string;
}

/** A used recovery code stays claimed as long as a factor document can live. */
const RECOVERY_CLAIM_TTL_MS = 400 * 86_400_000;

export function registerMfaRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { config, publicUrl } = ctx;
  const now = () => ctx.now();

  const subjectOf = (session: LoadedSession): Subject => ({ identity: session.data.identity, ...(session.data.mfa ? { mfa: session.data.mfa } : {}) });

  /** Reads session, returnTo and room of a step request; redirects or refuses when they are missing or bad. */
  async function stepInput(request: FastifyRequest, reply: FastifyReply, source: Record<string, unknown>): Promise<StepInput | undefined> {
    const returnTo = safeReturnTo(source.returnTo ?? '/', publicUrl);
    if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
    const room = typeof source.room === 'string' && source.room !== '' ? canonicalRoom(source.room) : '';
    if (room === undefined) throw new RoomguardError('RG_ROOM_INVALID');
    const session = await ctx.loadSession(request);
    if (!session) {
      if (request.method === 'GET') {
        await reply.redirect(ctx.loginHref(request.url), 302);
        return undefined;
      }
      throw new RoomguardError('RG_LOGIN_REQUIRED');
    }
    return { session, returnTo, room };
  }

  /** A state-changing step request: its body and step input, with the CSRF token (form field or header) checked. */
  async function postedStep(request: FastifyRequest, reply: FastifyReply): Promise<{ body: Record<string, unknown>; input: StepInput } | undefined> {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const input = await stepInput(request, reply, body);
    if (!input) return undefined;
    if (!ctx.csrfValid(request, input.session, body.csrf ?? request.headers['x-roomguard-csrf'])) throw new RoomguardError('RG_CSRF');
    return { body, input };
  }

  /** What second factor the room (or, without a room, factor management) asks for; undefined when already satisfied. */
  function requirementFor(input: StepInput): Requirement | undefined {
    if (!input.room) return { methods: ['webauthn', 'totp'], userVerification: 'preferred', stepUp: Boolean(input.session.data.mfa) };
    const decision = decide(subjectOf(input.session), input.room, ctx.deps.policies.current, now());
    if (decision.outcome === 'allow') return undefined;
    if (decision.outcome !== 'mfa' || !decision.mfa) throw new RoomguardError(decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
    return { methods: decision.mfa.methods, userVerification: decision.mfa.userVerification, stepUp: decision.reasons.includes('RG_MFA_TOO_OLD') };
  }

  function lockDetail(request: FastifyRequest, lock: LockState): string | undefined {
    if (!lock.locked) return undefined;
    const lang = ctx.lang(request);
    if (lock.hard) return lang === 'de' ? 'Die Sperre ist dauerhaft.' : 'The lock is permanent.';
    const at = new Date(lock.until!).toISOString().slice(11, 19);
    return lang === 'de' ? `Gesperrt bis ${at} UTC.` : `Locked until ${at} UTC.`;
  }

  /**
   * Refuses when locked; with `attempt`, also counts this attempt before it is checked (parallel guesses).
   * Callers pass `attempt` only for a real guess: one against a factor the account has (else there is
   * nothing to guess, and counting it would only let an account push its address towards a lock).
   */
  async function refuseIfLocked(request: FastifyRequest, reply: FastifyReply, user: string, attempt = false): Promise<boolean> {
    let lock = await ctx.limiter.state(user, request.ip);
    if (!lock.locked && attempt && !(await ctx.limiter.reserve(user, request.ip))) lock = { locked: true, hard: false, until: ctx.now() + config.mfa.failureWindow };
    if (!lock.locked) return false;
    const detail = lockDetail(request, lock);
    await ctx.fail(request, reply, 'RG_MFA_LOCKED', detail ? { detail } : {});
    return true;
  }

  /** Counts a failure; when it locks, audits the lock and answers with the lock page. */
  async function failed(request: FastifyRequest, reply: FastifyReply, input: StepInput, method: string, kind: 'mfa.failure' | 'mfa.replay', reason: string): Promise<boolean> {
    const user = userKey(input.session.data.identity.sub);
    ctx.auditQuietly(request, input.session, { type: kind, outcome: 'failure', reason, details: { method, ...(input.room ? { room: input.room } : {}) } });
    const lock = await ctx.limiter.fail(user, request.ip);
    if (!lock.locked) return false;
    ctx.auditQuietly(request, input.session, { type: 'mfa.lock', outcome: 'failure', reason: 'RG_MFA_LOCKED', details: { hard: lock.hard, ...(lock.address ? { address: true } : {}) } });
    const detail = lockDetail(request, lock);
    await ctx.fail(request, reply, 'RG_MFA_LOCKED', detail ? { detail } : {});
    return true;
  }

  /** A confirmed second factor: new session id carrying the method and time (step-up), counters cleared. */
  async function confirmed(request: FastifyRequest, reply: FastifyReply, input: StepInput, method: 'webauthn' | 'totp' | 'recovery', uv?: boolean): Promise<LoadedSession> {
    const rotated = await ctx.sessions.rotate(input.session, { mfa: { method, at: now(), ...(uv !== undefined ? { uv } : {}) } });
    ctx.setSessionCookie(reply, rotated);
    await ctx.limiter.succeed(userKey(input.session.data.identity.sub), request.ip);
    ctx.auditQuietly(request, rotated, { type: method === 'recovery' ? 'mfa.recovery_used' : 'mfa.success', outcome: 'success', details: { method, ...(input.room ? { room: input.room } : {}) } });
    return rotated;
  }

  /** Enrolment needs a fresh IdP login (first factor) or a current second factor (further factors). */
  async function enrolmentGate(request: FastifyRequest, reply: FastifyReply, input: StepInput, doc: UserFactors, json: boolean): Promise<boolean> {
    const here = request.method === 'GET' ? request.url : `/_roomguard/mfa?${new URLSearchParams({ returnTo: input.returnTo, room: input.room })}`;
    if (doc.factors.length === 0) {
      if (now() - input.session.data.authTime <= config.mfa.freshLogin) return true;
      if (json) throw new RoomguardError('RG_MFA_FRESH_LOGIN');
      await reply.redirect(ctx.loginHref(here, true), 302);
      return false;
    }
    if (ctx.factorIsFresh(input.session)) return true;
    if (json) throw new RoomguardError('RG_MFA_REQUIRED');
    await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: here })}`, 302);
    return false;
  }

  /** After saving a new factor: the first one also brings recovery codes, shown once on the next page. */
  async function afterEnrolment(session: LoadedSession, doc: UserFactors, returnTo: string): Promise<string> {
    if (doc.recovery) return returnTo;
    return (await ctx.issueRecoveryCodes(session, doc, returnTo)).page;
  }

  function defaultName(request: FastifyRequest, kind: 'totp' | 'webauthn', doc: UserFactors): string {
    const t = MFA_TEXT[ctx.lang(request)];
    const count = doc.factors.filter((f) => f.kind === kind).length + 1;
    return `${kind === 'totp' ? t.kindTotp : t.kindWebauthn} ${count}`;
  }

  function cleanName(value: unknown, fallback: string): string {
    const name = typeof value === 'string' ? value.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 60) : '';
    return name || fallback;
  }

  // ---- the step: verify or enrol ---------------------------------------------------------------
  app.get('/_roomguard/mfa', async (request, reply) => {
    const input = await stepInput(request, reply, request.query as Record<string, unknown>);
    if (!input) return reply;
    const requirement = requirementFor(input);
    if (!requirement) return reply.redirect(input.returnTo, 302);
    const user = userKey(input.session.data.identity.sub);
    if (await refuseIfLocked(request, reply, user)) return reply;
    const doc = await ctx.factors.load(user);
    const webauthn = requirement.methods.includes('webauthn') && doc.factors.some((f) => f.kind === 'webauthn');
    const totp = requirement.methods.includes('totp') && doc.factors.some((f) => f.kind === 'totp');
    if (webauthn || totp) {
      return ctx.page(request, reply, (frame) => verifyPage(frame, {
        csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, stepUp: requirement.stepUp, webauthn, totp, recovery: Boolean(doc.recovery?.hashes.length) && requirement.methods.includes('totp'),
      }));
    }
    const canEnrol = requirement.methods.filter((m) => m === 'webauthn' || m === 'totp');
    if (canEnrol.length === 0) return ctx.page(request, reply, (frame) => idpOnlyPage(frame, ctx.loginHref(input.returnTo, true)));
    if (!(await enrolmentGate(request, reply, input, doc, false))) return reply;
    return ctx.page(request, reply, (frame) => enrolChoicePage(frame, { returnTo: input.returnTo, room: input.room, webauthn: canEnrol.includes('webauthn'), totp: canEnrol.includes('totp') }));
  });

  // ---- TOTP ----------------------------------------------------------------------------------
  app.post('/_roomguard/mfa/totp', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const requirement = requirementFor(input);
    if (!requirement) return reply.redirect(input.returnTo, 303);
    if (!requirement.methods.includes('totp')) throw new RoomguardError('RG_MFA_REQUIRED', 'this room does not accept authenticator codes');
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    const authenticators = doc.factors.filter((f): f is TotpFactor => f.kind === 'totp');
    if (authenticators.length === 0) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'no authenticator app');
    if (await refuseIfLocked(request, reply, user, true)) return reply;
    const code = typeof body.code === 'string' ? body.code : '';
    let replay = false;
    for (const factor of authenticators) {
      const check = await checkTotp(factor.secret, code, factor.lastTimeStep, now());
      if (!check.ok) {
        replay ||= check.replay;
        continue;
      }
      // Two requests racing with the same code: only one may claim its time step.
      if (!(await ctx.deps.store.add(`mfa:totp-step:${user}:${factor.id}:${check.timeStep}`, '1', 3 * 60_000))) {
        replay = true;
        continue;
      }
      factor.lastTimeStep = check.timeStep;
      factor.lastUsedAt = now();
      await ctx.factors.save(user, doc);
      await confirmed(request, reply, input, 'totp');
      return reply.redirect(input.returnTo, 303);
    }
    if (await failed(request, reply, input, 'totp', replay ? 'mfa.replay' : 'mfa.failure', replay ? 'RG_MFA_REPLAY' : 'RG_MFA_INVALID')) return reply;
    const t = MFA_TEXT[ctx.lang(request)];
    return ctx.page(request, reply, (frame) => verifyPage(frame, {
      csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, stepUp: requirement.stepUp,
      webauthn: requirement.methods.includes('webauthn') && doc.factors.some((f) => f.kind === 'webauthn'), totp: true,
      recovery: Boolean(doc.recovery?.hashes.length) && requirement.methods.includes('totp'), error: replay ? t.replayedCode : t.wrongCode,
    }), 422);
  });

  app.get('/_roomguard/mfa/totp/setup', async (request, reply) => {
    const input = await stepInput(request, reply, request.query as Record<string, unknown>);
    if (!input) return reply;
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    if (!(await enrolmentGate(request, reply, input, doc, false))) return reply;
    const pendingKey = `mfa:pending-totp:${input.session.hash}`;
    let secret = await ctx.deps.store.get(pendingKey);
    if (!secret) {
      secret = newTotpSecret();
      await ctx.deps.store.set(pendingKey, secret, config.mfa.challengeTimeout);
    }
    return renderTotpSetup(request, reply, input, doc, secret);
  });

  async function renderTotpSetup(request: FastifyRequest, reply: FastifyReply, input: StepInput, doc: UserFactors, secret: string, error?: string) {
    const label = input.session.data.identity.email ?? input.session.data.identity.sub;
    const qrSvg = await QRCode.toString(totpUri(secret, config.ui.orgName, label), { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    return ctx.page(request, reply, (frame) => totpSetupPage(frame, {
      csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, qrSvg, secret, defaultName: defaultName(request, 'totp', doc), ...(error ? { error } : {}),
    }), error ? 422 : 200);
  }

  app.post('/_roomguard/mfa/totp/setup', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    if (!(await enrolmentGate(request, reply, input, doc, false))) return reply;
    const pendingKey = `mfa:pending-totp:${input.session.hash}`;
    const secret = await ctx.deps.store.get(pendingKey);
    if (!secret) return reply.redirect(`/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo: input.returnTo, room: input.room })}`, 303);
    const check = await checkTotp(secret, typeof body.code === 'string' ? body.code : '', 0, now());
    if (!check.ok) return renderTotpSetup(request, reply, input, doc, secret, MFA_TEXT[ctx.lang(request)].wrongCode);
    if (doc.factors.length >= MAX_FACTORS_PER_PERSON) throw new RoomguardError('RG_REQUEST_INVALID', `at most ${MAX_FACTORS_PER_PERSON} factors per person`);
    await ctx.deps.store.delete(pendingKey);
    doc.factors.push({ kind: 'totp', id: newFactorId(), name: cleanName(body.name, defaultName(request, 'totp', doc)), secret, lastTimeStep: check.timeStep, createdAt: now(), lastUsedAt: now() });
    await ctx.factors.save(user, doc);
    const session = await confirmed(request, reply, input, 'totp');
    ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'totp', factors: doc.factors.length } });
    return reply.redirect(await afterEnrolment(session, doc, input.returnTo), 303);
  });

  // ---- recovery codes ------------------------------------------------------------------------
  app.get('/_roomguard/mfa/recovery', async (request, reply) => {
    const input = await stepInput(request, reply, request.query as Record<string, unknown>);
    if (!input) return reply;
    return ctx.page(request, reply, (frame) => recoveryPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room }));
  });

  app.post('/_roomguard/mfa/recovery', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    if (!doc.recovery?.hashes.length) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'no recovery codes left');
    if (await refuseIfLocked(request, reply, user, true)) return reply;
    const index = await matchRecoveryCode(typeof body.code === 'string' ? body.code : '', doc.recovery.hashes);
    if (index === -1) {
      if (await failed(request, reply, input, 'recovery', 'mfa.failure', 'RG_MFA_INVALID')) return reply;
      return ctx.page(request, reply, (frame) => recoveryPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, error: MFA_TEXT[frame.lang].wrongRecovery }), 422);
    }
    // Two requests racing with the same code: only one may claim it (single use, ASVS 2.6.1).
    const claimed = await ctx.deps.store.add(`mfa:recovery-used:${user}:${createHash('sha256').update(doc.recovery.hashes[index]!).digest('hex')}`, '1', RECOVERY_CLAIM_TTL_MS);
    if (!claimed) {
      if (await failed(request, reply, input, 'recovery', 'mfa.replay', 'RG_MFA_REPLAY')) return reply;
      return ctx.page(request, reply, (frame) => recoveryPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, error: MFA_TEXT[frame.lang].wrongRecovery }), 422);
    }
    doc.recovery.hashes.splice(index, 1);
    await ctx.factors.save(user, doc);
    await confirmed(request, reply, input, 'recovery');
    return reply.redirect(input.returnTo, 303);
  });

  app.get('/_roomguard/mfa/recovery-codes', async (request, reply) => {
    const input = await stepInput(request, reply, request.query as Record<string, unknown>);
    if (!input) return reply;
    const raw = await ctx.deps.store.take(`mfa:show-codes:${input.session.hash}`);
    if (!raw) return reply.redirect(input.returnTo, 302);
    return ctx.page(request, reply, (frame) => recoveryCodesPage(frame, { codes: JSON.parse(raw) as string[], continueTo: input.returnTo }));
  });

  // ---- WebAuthn --------------------------------------------------------------------------------
  app.get('/_roomguard/mfa/webauthn/setup', async (request, reply) => {
    const input = await stepInput(request, reply, request.query as Record<string, unknown>);
    if (!input) return reply;
    const doc = await ctx.factors.load(userKey(input.session.data.identity.sub));
    if (!(await enrolmentGate(request, reply, input, doc, false))) return reply;
    return ctx.page(request, reply, (frame) => webauthnSetupPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, defaultName: defaultName(request, 'webauthn', doc) }));
  });

  app.post('/_roomguard/mfa/webauthn/register/options', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const doc = await ctx.factors.load(userKey(input.session.data.identity.sub));
    await enrolmentGate(request, reply, input, doc, true);
    const requirement = input.room ? requirementFor(input) : undefined;
    const identity = input.session.data.identity;
    const options = await ctx.ceremonies.registrationOptions(input.session.hash, doc, identity.email ?? identity.sub, identity.name ?? identity.email ?? identity.sub, requirement?.userVerification ?? 'preferred');
    return reply.header('cache-control', 'no-store').send(options);
  });

  app.post('/_roomguard/mfa/webauthn/register', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    await enrolmentGate(request, reply, input, doc, true);
    const registered = await ctx.ceremonies.register(input.session.hash, body.response as never, cleanName(body.name, defaultName(request, 'webauthn', doc)), now());
    if (!registered) {
      ctx.auditQuietly(request, input.session, { type: 'mfa.failure', outcome: 'failure', reason: 'RG_MFA_INVALID', details: { method: 'webauthn', ceremony: 'register' } });
      return reply.code(400).send({ error: 'invalid' });
    }
    const { factor } = registered;
    if (doc.factors.length >= MAX_FACTORS_PER_PERSON) throw new RoomguardError('RG_REQUEST_INVALID', `at most ${MAX_FACTORS_PER_PERSON} factors per person`);
    // A first factor: keep the user handle the authenticator was given.
    if (doc.factors.length === 0) doc.userHandle = registered.userHandle;
    doc.factors.push(factor);
    await ctx.factors.save(user, doc);
    const session = await confirmed(request, reply, input, 'webauthn', registered.userVerified);
    ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'webauthn', deviceType: factor.deviceType, factors: doc.factors.length } });
    return reply.send({ redirect: await afterEnrolment(session, doc, input.returnTo) });
  });

  app.post('/_roomguard/mfa/webauthn/authenticate/options', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const requirement = requirementFor(input) ?? { methods: ['webauthn'], userVerification: 'preferred', stepUp: false };
    if (!requirement.methods.includes('webauthn')) throw new RoomguardError('RG_MFA_REQUIRED', 'this room does not accept passkeys');
    const user = userKey(input.session.data.identity.sub);
    const lock = await ctx.limiter.state(user, request.ip);
    if (lock.locked) throw new RoomguardError('RG_MFA_LOCKED');
    const doc = await ctx.factors.load(user);
    return reply.header('cache-control', 'no-store').send(await ctx.ceremonies.authenticationOptions(input.session.hash, doc, requirement.userVerification));
  });

  app.post('/_roomguard/mfa/webauthn/authenticate', async (request, reply) => {
    const step = await postedStep(request, reply);
    if (!step) return reply;
    const { body, input } = step;
    const user = userKey(input.session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    const credentialId = (body.response as { id?: unknown } | undefined)?.id;
    if (!doc.factors.some((f) => f.kind === 'webauthn' && f.id === credentialId)) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'not a passkey of this account');
    const lock = await ctx.limiter.state(user, request.ip);
    if (lock.locked || !(await ctx.limiter.reserve(user, request.ip))) throw new RoomguardError('RG_MFA_LOCKED');
    const result = await ctx.ceremonies.authenticate(input.session.hash, doc, body.response as never);
    if (!result.ok) {
      ctx.auditQuietly(request, input.session, { type: 'mfa.failure', outcome: 'failure', reason: result.reason === 'counter' ? 'RG_MFA_COUNTER' : 'RG_MFA_INVALID', details: { method: 'webauthn', why: result.reason } });
      const after = await ctx.limiter.fail(user, request.ip);
      if (after.locked) ctx.auditQuietly(request, input.session, { type: 'mfa.lock', outcome: 'failure', reason: 'RG_MFA_LOCKED', details: { hard: after.hard, ...(after.address ? { address: true } : {}) } });
      return reply.code(after.locked ? 429 : 400).send({ error: after.locked ? 'RG_MFA_LOCKED' : result.reason });
    }
    result.factor.counter = result.newCounter;
    result.factor.lastUsedAt = now();
    await ctx.factors.save(user, doc);
    await confirmed(request, reply, input, 'webauthn', result.userVerified);
    return reply.send({ redirect: input.returnTo });
  });
}
