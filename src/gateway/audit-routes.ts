// The reviewer page /_roomguard/audit: members of audit.reviewers groups, with a current second factor,
// filter the audit log, see each decision's reasons in words and the chain's verification status, and
// export CSV. Verifying reads the whole log, so its result is cached for a minute.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { auditDirOf } from '../config/load.js';
import { AUDIT_CSS, chainStatusOf, renderAuditPage, type AuditPageFilters, type ChainStatus } from '../ui/audit-page.js';
import { formatCsv, parseQueryFilters, queryAudit } from '../audit/query.js';
import { verifyAuditDir } from '../audit/verify.js';
import { PersonKeys, pseudonymsOf } from '../audit/person-keys.js';
import { chainFacts, gatherFacts, type ChainFacts } from '../compliance/facts.js';
import { buildReport, REPORT_TEXT } from '../compliance/report.js';
import { complianceBody } from '../ui/compliance-page.js';
import { layout } from '../ui/layout.js';
import type { LoadedSession } from '../session/sessions.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';

const PAGE = '/_roomguard/audit';
const MAX_SHOWN = 500;
const STATUS_TTL_MS = 60_000;
/** A reviewer's second factor must be this recent (reading who met whom is sensitive). */
const REVIEWER_MFA_MAX_AGE_MS = 60 * 60_000;
const FILTERS = ['room', 'user', 'type', 'outcome', 'since', 'until'] as const;

const TEXT = { type: 'string' } as const;
/** The reviewer's filters (parsed and checked by parseQueryFilters; `room` is text to look for, not a room name) and the export format. */
const AUDIT_QUERY = routeInput({ querystring: { type: 'object', properties: { room: TEXT, user: TEXT, type: TEXT, outcome: TEXT, since: TEXT, until: TEXT, format: TEXT } } });
const VERIFY_FORM = routeInput({ body: { type: 'object', properties: { csrf: TEXT } } }, ['csrf']);

export function registerAuditRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const dir = auditDirOf(ctx.config);
  const review: Review = { ctx, dir, chain: new ChainStatusCache(ctx, dir) };
  app.get('/_roomguard/assets/audit.css', async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(AUDIT_CSS));
  route(app, 'GET', PAGE, AUDIT_QUERY, (request, reply) => showAuditLog(review, request, reply));
  route(app, 'POST', `${PAGE}/verify`, VERIFY_FORM, (request, reply) => verifyAgain(review, request, reply));
  app.get(`${PAGE}/compliance`, (request, reply) => showComplianceReport(review, request, reply));
}

interface Review {
  ctx: GatewayContext;
  /** The audit directory the page reads. */
  dir: string;
  chain: ChainStatusCache;
}

/** The chain's verification, worked out at most once a minute unless a reviewer asks again. */
class ChainStatusCache {
  readonly #ctx: GatewayContext;
  readonly #dir: string;
  #status: { value: ChainStatus; facts: ChainFacts; at: number } | undefined;

  constructor(ctx: GatewayContext, dir: string) {
    this.#ctx = ctx;
    this.#dir = dir;
  }

  async current(force = false): Promise<ChainStatus> {
    return (await this.#verified(force)).value;
  }

  /** The same verification as the compliance report states it. */
  async facts(): Promise<ChainFacts> {
    return (await this.#verified(false)).facts;
  }

  async #verified(force: boolean): Promise<{ value: ChainStatus; facts: ChainFacts; at: number }> {
    const now = this.#ctx.now();
    if (!force && this.#status && now - this.#status.at < STATUS_TTL_MS) return this.#status;
    const report = await verifyAuditDir(this.#dir, { signingKeyPem: this.#ctx.config.secrets.auditSigningKey.reveal(), live: true });
    this.#status = { value: chainStatusOf(report, now, this.#ctx.deps.audit.healthy), facts: chainFacts(this.#dir, report), at: now };
    return this.#status;
  }
}

/** A reviewer with a recent second factor, or a redirect / refusal. */
async function reviewer(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<LoadedSession | undefined> {
  const session = await ctx.loadSession(request);
  if (!session) {
    await reply.redirect(ctx.loginHref(request.url), 302);
    return undefined;
  }
  const groups = session.data.identity.groups;
  if (!ctx.config.audit.reviewers.some((g) => groups.includes(g))) {
    // Not a room: its own type, so room reports and the chart of room entries do not count it.
    ctx.auditQuietly(request, session, { type: 'review.refused', outcome: 'deny', reason: 'RG_AUDIT_FORBIDDEN', details: { page: 'audit' } });
    throw new RoomguardError('RG_AUDIT_FORBIDDEN');
  }
  const mfa = session.data.mfa;
  if (!mfa || mfa.method === 'idp' || ctx.now() - mfa.at > REVIEWER_MFA_MAX_AGE_MS) {
    await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: request.url })}`, 302);
    return undefined;
  }
  return session;
}

async function showAuditLog({ ctx, dir, chain }: Review, request: ValidRequest<typeof AUDIT_QUERY>, reply: FastifyReply) {
  const session = await reviewer(ctx, request, reply);
  if (!session) return reply;
  const { query } = request;
  const { filters, problems } = parseQueryFilters(query, ctx.now());
  // A sub names a live person also where records carry a pseudonym (pseudonymous or erasable identities).
  if (filters.user !== undefined) filters.userPseudonyms = await pseudonymsOf(filters.user, { issuer: ctx.config.oidc.issuer.href, signingKeyPem: ctx.config.secrets.auditSigningKey.reveal(), personKeys: new PersonKeys(ctx.deps.store, ctx.config.audit.retentionDays) });
  const records = await queryAudit(dir, filters, { limit: MAX_SHOWN });
  if (query.format === 'csv') {
    return reply
      .header('content-disposition', `attachment; filename="roomguard-audit-${new Date(ctx.now()).toISOString().slice(0, 10)}.csv"`)
      .type('text/csv; charset=utf-8')
      .send(formatCsv(records));
  }
  const raw: AuditPageFilters = {};
  for (const key of FILTERS) {
    const value = query[key];
    if (value !== undefined && value !== '') raw[key] = value.slice(0, 200);
  }
  const chainStatus = await chain.current();
  const frame = ctx.frame(request, reply);
  return reply.type('text/html; charset=utf-8').send(renderAuditPage({
    lang: frame.lang, records, filters: raw, invalid: problems, chainStatus, csrfToken: ctx.csrfToken(session), nonce: frame.nonce, orgName: ctx.config.ui.orgName,
    ...(frame.timeZone ? { timeZone: frame.timeZone } : {}), ...(frame.links ? { links: frame.links } : {}),
  }));
}

/** Verifies the whole chain now rather than within the minute the cached status covers. */
async function verifyAgain({ ctx, chain }: Review, request: ValidRequest<typeof VERIFY_FORM>, reply: FastifyReply) {
  const session = await reviewer(ctx, request, reply);
  if (!session) return reply;
  if (!ctx.csrfValid(request, session, request.body.csrf)) throw new RoomguardError('RG_CSRF');
  await chain.current(true);
  return reply.redirect(PAGE, 303);
}

/** The compliance report of the running configuration (docs/compliance.md), for reviewers. */
async function showComplianceReport({ ctx, dir, chain }: Review, request: FastifyRequest, reply: FastifyReply) {
  const session = await reviewer(ctx, request, reply);
  if (!session) return reply;
  const facts = await gatherFacts(ctx.config, { auditDir: dir, reserved: ctx.deps.backend.reservedRooms, now: ctx.now(), chain: await chain.facts() });
  const frame = ctx.frame(request, reply);
  return reply.type('text/html; charset=utf-8').send(layout(frame, REPORT_TEXT[frame.lang].title, complianceBody(buildReport(facts), frame.lang), { reviewer: true }));
}
