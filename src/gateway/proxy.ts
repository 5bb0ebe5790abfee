// The guarded proxy: which room (backend) → who (session) → decide() → login / second factor / notice /
// refusal, or the upstream with identity headers. HTTP and WebSocket pass the same guard; an allowed
// join is written to the audit log before it is let through (DESIGN invariant 4).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { decide, policyFor } from '../policy/decide.js';
import type { Decision, Subject } from '../policy/types.js';
import type { LoadedSession } from '../session/sessions.js';
import { identityHeaders, stripOwnCookies, stripSpoofable } from './identity-headers.js';
import { isCleanPath } from './path-hygiene.js';
import { noticeKey } from './auth-routes.js';
import type { GatewayContext } from './context.js';

interface Admission {
  session?: LoadedSession;
  decision?: Decision;
  upstreamHeaders?: Record<string, string | string[] | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    admission?: Admission;
  }
}

/** A top-level page load (as opposed to an asset or API call): where a person can be redirected to a step. */
function isNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const dest = request.headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  return String(request.headers.accept ?? '').includes('text/html');
}

export async function registerProxy(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { config, publicUrl } = ctx;
  const { backend, policies } = ctx.deps;
  const publicPaths = config.backend.public;
  const isPublic = (path: string) => publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = request.raw.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const ws = ctx.isWebSocket(request);
    if (!isCleanPath(path)) return ctx.fail(request, reply, 'RG_REQUEST_BAD_PATH');
    const lookup = backend.roomOf(path);
    if (lookup.kind === 'invalid') return ctx.fail(request, reply, 'RG_ROOM_INVALID');
    if (lookup.kind === 'room' && lookup.canonicalPath !== undefined) {
      if (ws || (request.method !== 'GET' && request.method !== 'HEAD')) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
      return reply.redirect(lookup.canonicalPath + (queryAt === -1 ? '' : rawUrl.slice(queryAt)), 302);
    }
    if (lookup.kind === 'none' && isPublic(path)) {
      request.admission = {};
      return;
    }
    const session = await ctx.loadSession(request);
    const returnTo = rawUrl.length <= 2048 ? rawUrl : path;
    const needLogin = () => {
      if (ws || (request.method !== 'GET' && request.method !== 'HEAD')) return ctx.fail(request, reply, 'RG_LOGIN_REQUIRED');
      return reply.redirect(ctx.loginHref(returnTo), 302);
    };
    if (lookup.kind === 'none') {
      if (!session) return needLogin();
      request.admission = { session };
      return;
    }

    const set = policies.current;
    const room = lookup.room;
    const policy = policyFor(room, set).policy;
    const subject: Subject = {};
    // A risk: high room refuses sessions idle longer than its own limit (15 min), on top of the gateway's.
    if (session && !(policy?.sessionIdleTimeout !== undefined && session.idleFor > policy.sessionIdleTimeout)) {
      subject.identity = session.data.identity;
      if (session.data.mfa) subject.mfa = session.data.mfa;
    }
    const decision = decide(subject, room, set, ctx.now());
    const join = ws || isNavigation(request);
    request.log.info({
      event: 'decision', room, outcome: decision.outcome, reasons: decision.reasons, policy: decision.policy?.file,
      rule: decision.rule ? `${decision.rule.kind}[${decision.rule.index}]` : undefined, session: session?.hash.slice(0, 16),
    }, 'room decision');

    switch (decision.outcome) {
      case 'login':
        return needLogin();
      case 'mfa':
        if (join) ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'mfa', decision, reason: decision.reasons[0] ?? 'RG_MFA_REQUIRED' });
        if (!ws && isNavigation(request)) return reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo, room })}`, 302);
        return ctx.fail(request, reply, decision.reasons[0] ?? 'RG_MFA_REQUIRED');
      case 'deny':
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', decision, reason: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED' });
        return ctx.fail(request, reply, decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
      case 'allow': {
        if (policy?.notice && session && !ws && isNavigation(request) && !(session.data.noticesSeen ?? []).includes(noticeKey(room, policy.sha256))) {
          return reply.redirect(`/_roomguard/notice?${new URLSearchParams({ returnTo, room })}`, 302);
        }
        if (join) {
          try {
            // No join without an audit record: if it cannot be written, the person is not let in.
            await ctx.audit(request, session, { type: 'room.decision', outcome: 'allow', decision });
          } catch (err) {
            request.log.error({ err: (err as Error).message, room }, 'audit append failed; join refused');
            return ctx.fail(request, reply, 'RG_AUDIT_UNAVAILABLE');
          }
        }
        request.admission = { ...(session ? { session } : {}), decision };
        return;
      }
    }
  };

  const upstreamHeaders = async (request: FastifyRequest): Promise<Record<string, string | string[] | undefined>> => {
    const headers = stripSpoofable({ ...request.headers }) as Record<string, string | string[] | undefined>;
    const cookie = stripOwnCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined, [ctx.cookies.session, ctx.cookies.binding, ctx.cookies.lang]);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-for'] = request.ip;
    headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
    headers['x-forwarded-host'] = publicUrl.host;
    delete headers.forwarded;
    const admission = request.admission;
    const identity = admission?.session?.data.identity;
    if (identity) {
      const room = admission?.decision?.room;
      const role = admission?.decision?.role;
      const facts = {
        sub: identity.sub, groups: identity.groups,
        ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
        ...(room ? { room } : {}), ...(role ? { role } : {}),
      };
      const assertion = await ctx.deps.assertion.sign({ ...facts, iss: identity.iss }, ctx.now());
      Object.assign(headers, identityHeaders({ ...facts, assertion }));
    }
    return headers;
  };

  await app.register(async (proxied) => {
    proxied.addHook('onRequest', guard);
    // Identity headers are signed asynchronously; prepare them before the (synchronous) proxy rewrite.
    proxied.addHook('preHandler', async (request) => {
      request.admission = { ...request.admission, upstreamHeaders: await upstreamHeaders(request) };
    });
    await proxied.register(httpProxy, {
      upstream: config.backend.upstream.origin + config.backend.upstream.pathname.replace(/\/$/, ''),
      websocket: true,
      proxyPayloads: true,
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => {
          const ready = (request as FastifyRequest).admission?.upstreamHeaders;
          const merged = { ...(ready ?? stripSpoofable({ ...headers })) } as Record<string, string | string[] | undefined>;
          // Host and length come from the proxy's own view of this request; hop-by-hop headers never pass.
          merged.host = headers.host as string;
          if (headers['content-length'] !== undefined) merged['content-length'] = headers['content-length'] as string;
          else delete merged['content-length'];
          delete merged.connection;
          delete merged['transfer-encoding'];
          delete merged.upgrade;
          return merged as typeof headers;
        },
        onError: (reply, { error }) => {
          reply.request.log.warn({ err: error.message }, 'upstream unavailable');
          void ctx.fail(reply.request as FastifyRequest, reply as unknown as FastifyReply, 'RG_UPSTREAM_UNAVAILABLE');
        },
      },
      wsClientOptions: {
        // Typed loosely upstream; the plugin calls it with (headers, request) for every proxied upgrade.
        rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
          const ready = request.admission?.upstreamHeaders ?? {};
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(ready)) {
            if (typeof value !== 'string') continue;
            if (name === 'cookie' || name === 'user-agent' || name === 'accept-language' || name === 'origin' || name.startsWith('x-forwarded-') || name.startsWith('x-roomguard-')) out[name] = value;
          }
          return out;
        },
      } as object,
    });
  });
}
