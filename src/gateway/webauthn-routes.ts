// Passkeys and security keys (WebAuthn): the page that enrols one, and the JSON calls its script makes to
// get options and send the authenticator's answer, for registration and for the step itself.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RoomguardError } from '../errors.js';
import { MAX_FACTORS_PER_PERSON, userKey } from '../mfa/factors.js';
import { keyFactsOf } from '../mfa/webauthn.js';
import { authenticatorAccepted } from '../policy/decide.js';
import { webauthnSetupPage } from '../ui/mfa-pages.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import { acceptedFactors, acceptedKeysOf, FACTOR_NAME_FIELD, STEP_CHECKED, STEP_FORM, STEP_QUERY, afterEnrolment, cleanName, confirmed, defaultName, enrolmentGate, postedStep, requirementFor, stepInput, type Requirement } from './mfa-step.js';

/**
 * The authenticator's answer at the edge: an object, with the credential id the gateway itself reads to
 * find the factor. The ceremony parses the rest (mfa/webauthn-json.ts), so a malformed answer that names a
 * factor of the account fails, and is counted, like a wrong signature.
 */
const CREDENTIAL_ANSWER = { type: 'object', properties: { id: { type: 'string' } } } as const;

const SETUP_PAGE = routeInput({ querystring: STEP_QUERY }, STEP_CHECKED);
const OPTIONS_ASKED = routeInput({ body: STEP_FORM }, STEP_CHECKED);
// The answer is optional at the edge: a request without one reaches the CSRF check, then fails the ceremony.
const REGISTRATION_SENT = routeInput({ body: { type: 'object', properties: { ...STEP_FORM.properties, response: CREDENTIAL_ANSWER, name: FACTOR_NAME_FIELD } } }, STEP_CHECKED);
const ASSERTION_SENT = routeInput({ body: { type: 'object', properties: { ...STEP_FORM.properties, response: CREDENTIAL_ANSWER } } }, STEP_CHECKED);

export function registerWebauthnRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  route(app, 'GET', '/_roomguard/mfa/webauthn/setup', SETUP_PAGE, (request, reply) => showWebauthnSetup(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/webauthn/register/options', OPTIONS_ASKED, (request, reply) => registrationOptions(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/webauthn/register', REGISTRATION_SENT, (request, reply) => registerCredential(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/webauthn/authenticate/options', OPTIONS_ASKED, (request, reply) => authenticationOptions(ctx, request, reply));
  route(app, 'POST', '/_roomguard/mfa/webauthn/authenticate', ASSERTION_SENT, (request, reply) => authenticate(ctx, request, reply));
}

async function showWebauthnSetup(ctx: GatewayContext, request: ValidRequest<typeof SETUP_PAGE>, reply: FastifyReply) {
  const input = await stepInput(ctx, request, reply, request.query);
  if (!input) return reply;
  const doc = await ctx.factors.load(userKey(input.session.data.identity.sub));
  if (!(await enrolmentGate(ctx, request, reply, input, doc, false))) return reply;
  const accepted = input.room ? acceptedKeysOf(ctx, requirementFor(ctx, input)) : undefined;
  return ctx.page(request, reply, (frame) => webauthnSetupPage(frame, { csrf: ctx.csrfToken(input.session), returnTo: input.returnTo, room: input.room, defaultName: defaultName(ctx, request, 'webauthn', doc), ...(accepted ? { accepted } : {}) }));
}

async function registrationOptions(ctx: GatewayContext, request: ValidRequest<typeof OPTIONS_ASKED>, reply: FastifyReply) {
  const input = await postedStep(ctx, request, reply, request.body);
  if (!input) return reply;
  const doc = await ctx.factors.load(userKey(input.session.data.identity.sub));
  await enrolmentGate(ctx, request, reply, input, doc, true);
  const requirement = input.room ? requirementFor(ctx, input) : undefined;
  const identity = input.session.data.identity;
  // A room with an AAGUID allow-list asks the key to prove its model (attestation); others ask nothing.
  const attestation = requirement?.authenticators?.aaguids ? 'direct' : 'none';
  const options = await ctx.ceremonies.registrationOptions(input.session.hash, doc, identity.email ?? identity.sub, identity.name ?? identity.email ?? identity.sub, requirement?.userVerification ?? 'preferred', attestation);
  return reply.header('cache-control', 'no-store').send(options);
}

/** Verifies the new credential against the challenge of this session and saves it as a factor. */
async function registerCredential(ctx: GatewayContext, request: ValidRequest<typeof REGISTRATION_SENT>, reply: FastifyReply) {
  const { body } = request;
  const input = await postedStep(ctx, request, reply, body);
  if (!input) return reply;
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  await enrolmentGate(ctx, request, reply, input, doc, true);
  const metadata = ctx.deps.metadata;
  const registered = await ctx.ceremonies.register(input.session.hash, body.response, cleanName(body.name, defaultName(ctx, request, 'webauthn', doc)), ctx.now(), (aaguid) => metadata?.names.has(aaguid) === true);
  if (!registered) {
    ctx.auditQuietly(request, input.session, { type: 'mfa.failure', outcome: 'failure', reason: 'RG_MFA_INVALID', details: { method: 'webauthn', ceremony: 'register' } });
    return reply.code(400).send({ error: 'invalid' });
  }
  const { factor } = registered;
  const key = keyFactsOf(factor);
  // A key the room would not accept is not kept: the person learns at once which ones it takes.
  const rule = input.room ? requirementFor(ctx, input)?.authenticators : undefined;
  if (!authenticatorAccepted({ method: 'webauthn', at: 0, ...key }, rule)) {
    ctx.auditQuietly(request, input.session, { type: 'mfa.failure', outcome: 'failure', reason: 'RG_MFA_AUTHENTICATOR_REFUSED', details: { method: 'webauthn', ceremony: 'register', room: input.room, ...key } });
    return reply.code(422).send({ error: 'RG_MFA_AUTHENTICATOR_REFUSED' });
  }
  if (doc.factors.length >= MAX_FACTORS_PER_PERSON) throw new RoomguardError('RG_REQUEST_INVALID', `at most ${MAX_FACTORS_PER_PERSON} factors per person`);
  // A first factor: keep the user handle the authenticator was given.
  if (doc.factors.length === 0) doc.userHandle = registered.userHandle;
  doc.factors.push(factor);
  await ctx.factors.save(user, doc);
  const session = await confirmed(ctx, request, reply, input, 'webauthn', registered.userVerified, key);
  ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'webauthn', deviceType: factor.deviceType, factors: doc.factors.length, ...key } });
  return reply.send({ redirect: await afterEnrolment(ctx, session, doc, input.returnTo) });
}

async function authenticationOptions(ctx: GatewayContext, request: ValidRequest<typeof OPTIONS_ASKED>, reply: FastifyReply) {
  const input = await postedStep(ctx, request, reply, request.body);
  if (!input) return reply;
  const requirement: Requirement = requirementFor(ctx, input) ?? { methods: ['webauthn'], userVerification: 'preferred', stepUp: false };
  if (!requirement.methods.includes('webauthn')) throw new RoomguardError('RG_MFA_REQUIRED', 'this room does not accept passkeys');
  const user = userKey(input.session.data.identity.sub);
  const lock = await ctx.limiter.state(user, request.ip);
  if (lock.locked) throw new RoomguardError('RG_MFA_LOCKED');
  const doc = acceptedFactors(await ctx.factors.load(user), requirement);
  return reply.header('cache-control', 'no-store').send(await ctx.ceremonies.authenticationOptions(input.session.hash, doc, requirement.userVerification));
}

/** The step with a passkey: counted before it is checked (when it names one of the account's), audited either way. */
async function authenticate(ctx: GatewayContext, request: ValidRequest<typeof ASSERTION_SENT>, reply: FastifyReply) {
  const { body } = request;
  const input = await postedStep(ctx, request, reply, body);
  if (!input) return reply;
  const user = userKey(input.session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  const { response } = body;
  if (!response || !doc.factors.some((f) => f.kind === 'webauthn' && f.id === response.id)) throw new RoomguardError('RG_MFA_NOT_ENROLLED', 'not a passkey of this account');
  const lock = await ctx.limiter.state(user, request.ip);
  if (lock.locked || !(await ctx.limiter.reserve(user, request.ip))) throw new RoomguardError('RG_MFA_LOCKED');
  const result = await ctx.ceremonies.authenticate(input.session.hash, doc, response);
  if (!result.ok) {
    ctx.auditQuietly(request, input.session, { type: 'mfa.failure', outcome: 'failure', reason: result.reason === 'counter' ? 'RG_MFA_COUNTER' : 'RG_MFA_INVALID', details: { method: 'webauthn', why: result.reason } });
    const after = await ctx.limiter.fail(user, request.ip);
    if (after.locked) ctx.auditQuietly(request, input.session, { type: 'mfa.lock', outcome: 'failure', reason: 'RG_MFA_LOCKED', details: { hard: after.hard, ...(after.address ? { address: true } : {}) } });
    return reply.code(after.locked ? 429 : 400).send({ error: after.locked ? 'RG_MFA_LOCKED' : result.reason });
  }
  result.factor.counter = result.newCounter;
  result.factor.lastUsedAt = ctx.now();
  await ctx.factors.save(user, doc);
  await confirmed(ctx, request, reply, input, 'webauthn', result.userVerified, keyFactsOf(result.factor));
  return reply.send({ redirect: input.returnTo });
}
