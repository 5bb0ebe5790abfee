// What every second-factor route shares: the step's input (session, returnTo, room) and its schemas, what
// the room asks for, the attempt limiter's verdicts (lock page, counted failures), a confirmed factor's new
// session, and the gate in front of enrolment. The routes themselves are in mfa-routes.ts and webauthn-routes.ts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { safeReturnTo } from '../identity/return-to.js';
import { canonicalRoom } from '../backends/room-name.js';
import { authenticatorAccepted, decide } from '../policy/decide.js';
import type { MfaMethod, MfaRequirement, Subject } from '../policy/types.js';
import { keyFactsOf, type KeyFacts } from '../mfa/webauthn.js';
import type { AcceptedKeys } from '../ui/mfa-pages.js';
import type { LoadedSession } from '../session/sessions.js';
import { userKey, type UserFactors } from '../mfa/factors.js';
import type { LockState } from '../mfa/limiter.js';
import { MFA_TEXT } from '../ui/i18n.js';
import type { GatewayContext } from './context.js';
import type { FieldCheck } from './route-input.js';
import { formatClock } from '../ui/time.js';

/** Where the step goes on to (checked by safeReturnTo) and the room it is for ('' when managing factors). */
const STEP_FIELDS = {
  returnTo: { type: 'string', default: '/' },
  room: { type: 'string', default: '' },
} as const;

/** The query of a step page. */
export const STEP_QUERY = { type: 'object', properties: STEP_FIELDS } as const;

/** The form (or JSON body) of a state-changing step; the CSRF token may come in the X-Roomguard-CSRF header instead. */
export const STEP_FORM = { type: 'object', properties: { ...STEP_FIELDS, csrf: { type: 'string' } } } as const;

/** A malformed returnTo, room or CSRF token of a step gets the refusal of that field's own check. */
export const STEP_CHECKED = ['returnTo', 'room', 'csrf'] as const satisfies readonly FieldCheck[];

/**
 * A second-factor code reaches its check in any shape: one that is not a single string is a wrong code,
 * counted by the attempt limiter and audited like any other, so a crafted shape is no uncounted probe.
 */
export const CODE_FIELD = { description: 'a second-factor code; any shape, checked and counted by the step' } as const;

/** The name a person gives a new factor (control characters dropped, 60 characters kept). */
export const FACTOR_NAME_FIELD = { type: 'string' } as const;

export interface StepFields {
  returnTo: string;
  room: string;
}

export interface StepInput {
  session: LoadedSession;
  returnTo: string;
  /** Canonical room the step is for ('' when managing factors). */
  room: string;
}

export interface Requirement {
  methods: MfaMethod[];
  userVerification: 'required' | 'preferred';
  stepUp: boolean;
  /** The room's authenticator rule (mfa.authenticators), where it has one. */
  authenticators?: MfaRequirement['authenticators'];
  /** How fresh the room wants the second factor (ms). */
  maxAge?: number;
}

const subjectOf = (session: LoadedSession): Subject => ({ identity: session.data.identity, ...(session.data.mfa ? { mfa: session.data.mfa } : {}) });

/** Session, returnTo and room of a step request; redirects (GET) or refuses when they are missing or bad. */
export async function stepInput(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, fields: StepFields): Promise<StepInput | undefined> {
  const returnTo = safeReturnTo(fields.returnTo, ctx.publicUrl);
  if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
  const room = fields.room !== '' ? canonicalRoom(fields.room) : '';
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

/** A state-changing step request's input, with the CSRF token (form field or header) checked. */
export async function postedStep(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, form: StepFields & { csrf?: string }): Promise<StepInput | undefined> {
  const input = await stepInput(ctx, request, reply, form);
  if (!input) return undefined;
  if (!ctx.csrfValid(request, input.session, form.csrf ?? request.headers['x-roomguard-csrf'])) throw new RoomguardError('RG_CSRF');
  return input;
}

/** What second factor the room (or, without a room, factor management) asks for; undefined when already satisfied. */
export function requirementFor(ctx: GatewayContext, input: StepInput): Requirement | undefined {
  if (!input.room) return { methods: ['webauthn', 'totp'], userVerification: 'preferred', stepUp: Boolean(input.session.data.mfa) };
  const decision = decide(subjectOf(input.session), input.room, ctx.deps.policies.current, ctx.now());
  if (decision.outcome === 'allow') return undefined;
  if (decision.outcome !== 'mfa' || !decision.mfa) throw new RoomguardError(decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
  return {
    methods: decision.mfa.methods, userVerification: decision.mfa.userVerification, stepUp: decision.reasons.includes('RG_MFA_TOO_OLD'), maxAge: decision.mfa.maxAge,
    ...(decision.mfa.authenticators ? { authenticators: decision.mfa.authenticators } : {}),
  };
}

/** What the pages say a room with an authenticator rule accepts: the listed models by their metadata names. */
export function acceptedKeysOf(ctx: GatewayContext, requirement: Requirement | undefined): AcceptedKeys | undefined {
  const rule = requirement?.authenticators;
  if (!rule) return undefined;
  const names = rule.aaguids?.map((aaguid) => ctx.deps.metadata?.names.get(aaguid) ?? aaguid);
  return { allowSynced: rule.allowSynced, ...(names ? { names } : {}) };
}

/** The person's passkeys a room accepts (all of them where it has no authenticator rule). */
export function acceptedFactors(doc: UserFactors, requirement: Requirement | undefined): UserFactors {
  const rule = requirement?.authenticators;
  if (!rule) return doc;
  return { ...doc, factors: doc.factors.filter((f) => f.kind !== 'webauthn' || authenticatorAccepted({ method: 'webauthn', at: 0, ...keyFactsOf(f) }, rule)) };
}

function lockDetail(ctx: GatewayContext, request: FastifyRequest, lock: LockState): string | undefined {
  if (!lock.locked) return undefined;
  const lang = ctx.lang(request);
  if (lock.hard) return lang === 'de' ? 'Die Sperre ist dauerhaft.' : 'The lock is permanent.';
  const at = formatClock(lock.until!, lang, ctx.timeZone);
  return lang === 'de' ? `Gesperrt bis ${at}.` : `Locked until ${at}.`;
}

/**
 * Refuses when locked; with `attempt`, also counts this attempt before it is checked (parallel guesses).
 * Callers pass `attempt` only for a real guess: one against a factor the account has (else there is
 * nothing to guess, and counting it would only let an account push its address towards a lock).
 */
export async function refuseIfLocked(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, user: string, attempt = false): Promise<boolean> {
  let lock = await ctx.limiter.state(user, request.ip);
  if (!lock.locked && attempt && !(await ctx.limiter.reserve(user, request.ip))) lock = { locked: true, hard: false, until: ctx.now() + ctx.config.mfa.failureWindow };
  if (!lock.locked) return false;
  const detail = lockDetail(ctx, request, lock);
  await ctx.fail(request, reply, 'RG_MFA_LOCKED', detail ? { detail } : {});
  return true;
}

/** Counts a failure; when it locks, audits the lock and answers with the lock page. */
export async function failed(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput, method: string, kind: 'mfa.failure' | 'mfa.replay', reason: string): Promise<boolean> {
  const user = userKey(input.session.data.identity.sub);
  ctx.auditQuietly(request, input.session, { type: kind, outcome: 'failure', reason, details: { method, ...(input.room ? { room: input.room } : {}) } });
  const lock = await ctx.limiter.fail(user, request.ip);
  if (!lock.locked) return false;
  ctx.auditQuietly(request, input.session, { type: 'mfa.lock', outcome: 'failure', reason: 'RG_MFA_LOCKED', details: { hard: lock.hard, ...(lock.address ? { address: true } : {}) } });
  const detail = lockDetail(ctx, request, lock);
  await ctx.fail(request, reply, 'RG_MFA_LOCKED', detail ? { detail } : {});
  return true;
}

/** A confirmed second factor: new session id carrying the method and time (step-up), counters cleared. */
export async function confirmed(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput, method: 'webauthn' | 'totp' | 'recovery', uv?: boolean, key?: KeyFacts): Promise<LoadedSession> {
  const rotated = await ctx.sessions.rotate(input.session, { mfa: { method, at: ctx.now(), ...(uv !== undefined ? { uv } : {}), ...(key ?? {}) } });
  ctx.setSessionCookie(reply, rotated);
  await ctx.limiter.succeed(userKey(input.session.data.identity.sub), request.ip);
  ctx.auditQuietly(request, rotated, { type: method === 'recovery' ? 'mfa.recovery_used' : 'mfa.success', outcome: 'success', details: { method, ...(input.room ? { room: input.room } : {}), ...(key ?? {}) } });
  return rotated;
}

/** Enrolment needs a fresh IdP login (first factor) or a current second factor (further factors). */
export async function enrolmentGate(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, input: StepInput, doc: UserFactors, json: boolean): Promise<boolean> {
  const here = request.method === 'GET' ? request.url : `/_roomguard/mfa?${new URLSearchParams({ returnTo: input.returnTo, room: input.room })}`;
  if (doc.factors.length === 0) {
    if (ctx.now() - input.session.data.authTime <= ctx.config.mfa.freshLogin) return true;
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
export async function afterEnrolment(ctx: GatewayContext, session: LoadedSession, doc: UserFactors, returnTo: string): Promise<string> {
  if (doc.recovery) return returnTo;
  return (await ctx.issueRecoveryCodes(session, doc, returnTo)).page;
}

export function defaultName(ctx: GatewayContext, request: FastifyRequest, kind: 'totp' | 'webauthn', doc: UserFactors): string {
  const t = MFA_TEXT[ctx.lang(request)];
  const count = doc.factors.filter((f) => f.kind === kind).length + 1;
  return `${kind === 'totp' ? t.kindTotp : t.kindWebauthn} ${count}`;
}

export function cleanName(value: string | undefined, fallback: string): string {
  const name = value === undefined ? '' : value.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 60);
  return name || fallback;
}

/** The code as the check reads it: anything but a single string is a wrong code. */
export function codeOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
