// The reviewer page /_roomguard/audit: members of audit.reviewers groups, with a current second factor,
// filter the audit log, see each decision's reasons in words and the chain's verification status, and
// export CSV. Verifying reads the whole log, so its result is cached for a minute.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { auditDirOf } from '../config/load.js';
import { AUDIT_CSS, chainStatusOf, renderAuditPage, type AuditPageFilters, type ChainStatus } from '../ui/audit-page.js';
import { formatCsv, parseQueryFilters, queryAudit } from '../audit/query.js';
import { verifyAuditDir } from '../audit/verify.js';
import type { LoadedSession } from '../session/sessions.js';
import type { GatewayContext } from './context.js';

const PAGE = '/_roomguard/audit';
const MAX_SHOWN = 500;
const STATUS_TTL_MS = 60_000;
/** A reviewer's second factor must be this recent (reading who met whom is sensitive). */
const REVIEWER_MFA_MAX_AGE_MS = 60 * 60_000;

export function registerAuditRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const dir = auditDirOf(ctx.config);
  let status: { value: ChainStatus; at: number } | undefined;

  async function chainStatus(force = false): Promise<ChainStatus> {
    const now = ctx.now();
    if (!force && status && now - status.at < STATUS_TTL_MS) return status.value;
    const report = await verifyAuditDir(dir, { signingKeyPem: ctx.config.secrets.auditSigningKey.reveal(), live: true });
    status = { value: chainStatusOf(report, now, ctx.deps.audit.healthy), at: now };
    return status.value;
  }

  /** A reviewer with a recent second factor, or a redirect / refusal. */
  async function reviewer(request: FastifyRequest, reply: FastifyReply): Promise<LoadedSession | undefined> {
    const session = await ctx.loadSession(request);
    if (!session) {
      await reply.redirect(ctx.loginHref(request.url), 302);
      return undefined;
    }
    const groups = session.data.identity.groups;
    if (!ctx.config.audit.reviewers.some((g) => groups.includes(g))) {
      ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_AUDIT_FORBIDDEN', details: { page: 'audit' } });
      throw new RoomguardError('RG_AUDIT_FORBIDDEN');
    }
    const mfa = session.data.mfa;
    if (!mfa || mfa.method === 'idp' || ctx.now() - mfa.at > REVIEWER_MFA_MAX_AGE_MS) {
      await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: request.url })}`, 302);
      return undefined;
    }
    return session;
  }

  app.get('/_roomguard/assets/audit.css', async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(AUDIT_CSS));

  app.get(PAGE, async (request, reply) => {
    const session = await reviewer(request, reply);
    if (!session) return reply;
    const query = request.query as Record<string, unknown>;
    const { filters, problems } = parseQueryFilters(query, ctx.now());
    const records = await queryAudit(dir, filters, { limit: MAX_SHOWN });
    if (query.format === 'csv') {
      return reply
        .header('content-disposition', `attachment; filename="roomguard-audit-${new Date(ctx.now()).toISOString().slice(0, 10)}.csv"`)
        .type('text/csv; charset=utf-8')
        .send(formatCsv(records));
    }
    const raw: AuditPageFilters = {};
    for (const key of ['room', 'user', 'type', 'outcome', 'since', 'until'] as const) {
      if (typeof query[key] === 'string' && query[key] !== '') raw[key] = String(query[key]).slice(0, 200);
    }
    const chain = await chainStatus();
    const frame = ctx.frame(request, reply);
    return reply.type('text/html; charset=utf-8').send(renderAuditPage({
      lang: frame.lang, records, filters: raw, invalid: problems, chainStatus: chain, csrfToken: ctx.csrfToken(session), nonce: frame.nonce, orgName: ctx.config.ui.orgName,
    }));
  });

  app.post(`${PAGE}/verify`, async (request, reply) => {
    const session = await reviewer(request, reply);
    if (!session) return reply;
    if (!ctx.csrfValid(request, session, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new RoomguardError('RG_CSRF');
    await chainStatus(true);
    return reply.redirect(PAGE, 303);
  });
}
