// A client that claims to be someone through the headers other proxies and apps use for identity, in many
// spellings, for the tests that check what a real upstream receives behind roomguard, nginx or Caddy.
// Every spoofed value carries SPOOFED, so "nothing leaked" is read off the upstream's headers without
// asking the rule under test which names it covers.
import { request, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { namesInUse } from '../../src/gateway/header-snippets.js';

export const SPOOFED = 'mallory-spoofed';

/**
 * Written out by hand, independent of the rule: the attack's class (Remote-Groups, -Email, -Name) and the
 * identity headers of Authelia, oauth2-proxy, Kubernetes, Grafana, Kong …, in the spellings an upstream
 * may read as the same name (case, `_`, `.`, `~`), one of them twice.
 */
export const HAND_PICKED = [
  'Remote-Groups', 'Remote-Email', 'Remote-Name', 'Remote-User', 'REMOTE-GROUPS', 'remote_groups', 'Remote_Email', 'REMOTE_NAME', 'Remote.Groups', 'Remote~Name', 'rEmOtE-eMaIl',
  'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Groups', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Access-Token', 'X_Forwarded_Groups',
  'X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Groups', 'X-Auth-Request-Preferred-Username', 'X-Auth-Request-Access-Token', 'x_auth_request_user', 'X-Auth_Request-Email',
  'X-Remote-User', 'X-Remote-Group', 'X_Remote_User', 'X-WEBAUTH-USER', 'X-Webauth-Email', 'X-Authenticated-User', 'X-Authenticated-Userid',
  'X-Roomguard-User', 'X-ROOMGUARD-GROUPS', 'X_Roomguard_Role', 'x-roomguard-room', 'X-Roomguard-Assertion', 'X-Original-URL', 'X-Rewrite-URL', 'X-Original-URI',
  // What the outside attack found passing: the request as another proxy describes it, method overrides, client addresses.
  'X-Forwarded-Uri', 'X-Forwarded-Method', 'X-Forwarded-Prefix', 'X-Forwarded-Path', 'X-Envoy-Original-Path',
  'X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override', 'X-Client-IP', 'True-Client-IP', 'CF-Connecting-IP', 'X-Cluster-Client-IP',
];

/**
 * Members of a family that no list names (Kubernetes' X-Remote-Extra-<key>, Pomerium's claim headers, a
 * proxy's next release): stripped where the rule is matched by prefix (roomguard's proxy, Caddy, Traefik),
 * not by nginx, which can only blank names (docs/forward-auth.md, Limits).
 */
export const NEW_FAMILY_MEMBERS = ['X-Remote-Extra-Scopes', 'Remote-Anything', 'X-Auth-Request-New-Claim', 'X-Pomerium-Claim-Department', 'X-Roomguard-Tenant', 'X-WEBAUTH-ORG'];

/** The rule's own names (each family's members in use, every single name) in four spellings each. */
function fromTheRule(): string[] {
  return namesInUse().flatMap((name) => {
    const words = name.split('-');
    const title = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
    return [title, name.toUpperCase(), words.join('_'), words.join('.')];
  });
}

/**
 * [name, value] pairs in batches small enough for every server's header limits: HAND_PICKED first (with a
 * duplicate), then NEW_FAMILY_MEMBERS where the server matches prefixes, then the rule's names.
 */
export function spoofBatches(options: { newFamilyMembers: boolean }, size = 60): [string, string][][] {
  const names = [...HAND_PICKED, 'Remote-Groups', ...(options.newFamilyMembers ? NEW_FAMILY_MEMBERS : []), ...fromTheRule()];
  const pairs: [string, string][] = names.map((name, i) => [name, `${SPOOFED}-${i}`]);
  const batches: [string, string][][] = [];
  for (let i = 0; i < pairs.length; i += size) batches.push(pairs.slice(i, i + size));
  return batches;
}

/** The names of the upstream's headers whose values a client chose (they carry SPOOFED). */
export function leaked(headers: IncomingHttpHeaders): string[] {
  return Object.entries(headers).filter(([, value]) => String(value).includes(SPOOFED)).map(([name]) => name);
}

/** A GET with the header names exactly as given (case, duplicates), which fetch would normalise. */
export function getWithRawHeaders(port: number, path: string, pairs: [string, string][], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  // Given as a list, Node adds no Host header of its own.
  const flat = [['host', `127.0.0.1:${port}`], ...Object.entries(headers), ...pairs].flat();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: flat }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket with these headers and resolves with the handshake the echo upstream reports first. */
export function openWebSocket(url: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      ws.close();
      resolve(JSON.parse(data.toString()) as { headers: IncomingHttpHeaders });
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
