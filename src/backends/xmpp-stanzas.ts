// Reads the XMPP a Jitsi client sends (RFC 7395 WebSocket messages, XEP-0124/0206 BOSH bodies) and says
// whether it may reach Prosody: every stanza addressed to the MUC service must name a room the session was
// admitted to, and so must a Jicofo conference request. Parsed with saxes (a streaming, namespace-aware
// parser that expands no entities but XML's own five and character references); restricted XML as
// RFC 6120 §11.1 asks: no DTD, no comments, no processing instructions. Pure; no I/O.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { canonicalRoom } from './room-name.js';

/** The largest WebSocket message or BOSH body read: Prosody's own default stanza limit (256 KiB). */
export const STANZA_BYTES_LIMIT = 256 * 1024;
/** The deepest element nesting (the message or body counted as 1); Jitsi's deepest is about 8. */
export const STANZA_DEPTH_LIMIT = 32;

const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';
const BOSH_NS = 'http://jabber.org/protocol/httpbind';
const FOCUS_NS = 'http://jitsi.org/protocol/focus';

export interface StanzaRules {
  /** The XMPP domain a stream must be opened `to` (lower case). */
  domain: string;
  /** The MUC service whose rooms are judged (lower case). */
  mucDomain: string;
  /** Room local parts are `[tenant]room`. */
  tenants: boolean;
  /** Whether the session was admitted to this judged room (`room` or `tenant/room`). */
  admitted(room: string): boolean;
}

export type StanzaVerdict =
  | { ok: true }
  /** `room`: the room the refused stanza tried to reach (as written, shortened), when it named one. */
  | { ok: false; why: 'malformed' | 'too-large' | 'wrong-domain' | 'not-admitted'; room?: string };

class Refusal extends Error {
  constructor(readonly verdict: Extract<StanzaVerdict, { ok: false }>) {
    super(verdict.why);
  }
}

/**
 * A WebSocket message: stanzas, `<open/>` or `<close/>`, as text. The common plain stanza is read by a
 * strict scanner of a small subset of XML (quick: the relay's cost); anything outside that subset by saxes.
 */
export function judgeWebSocketMessage(text: string, rules: StanzaRules): StanzaVerdict {
  return scanPlainStanzas(text, rules) ?? judge(text, rules, 'ws');
}

/** The same verdict from saxes alone (the reference the scanner is tested against). */
export function judgeWebSocketMessageWithSaxes(text: string, rules: StanzaRules): StanzaVerdict {
  return judge(text, rules, 'ws');
}

// The subset the scanner reads: ASCII names without prefixes (attributes may be xml:…), quoted attribute
// values without `<`, tabs or line breaks, no `&` or `]]>` anywhere, nothing but whitespace between
// stanzas, only characters XML allows. Anything else — a reference, a comment, CDATA, a prefix, a
// namespace declaration with one, a duplicate attribute, an element named open, close or conference —
// is left to saxes. One pass over the characters, no regular expressions (nothing to backtrack).
const LEFT_TO_SAXES = new Set(['open', 'close', 'conference']);
/** Longer messages go to saxes. */
const SCANNED_LIMIT = 64 * 1024;
/** Namespaces no default declaration may name (saxes refuses them). */
const RESERVED_NS = new Set(['http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/']);

/** No lone surrogates (String.prototype.isWellFormed, ES2024; the project's TypeScript lib is older). */
const isWellFormedUnicode = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;
/** Characters XML 1.0 does not allow (lone surrogates are checked apart). */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

class Scan {
  i = 0;
  constructor(readonly text: string) {}
  skipSpace(): number {
    const from = this.i;
    while (this.i < this.text.length && isSpace(this.text.charCodeAt(this.i))) this.i++;
    return this.i - from;
  }
  /** An ASCII name (no prefix) at the cursor; '' when there is none. */
  name(): string {
    const from = this.i;
    if (!isNameStart(this.text.charCodeAt(this.i))) return '';
    do this.i++;
    while (this.i < this.text.length && isNameChar(this.text.charCodeAt(this.i)));
    return this.text.slice(from, this.i);
  }
}

/** The scanner: a verdict for a message in the subset, undefined for anything else. */
function scanPlainStanzas(text: string, rules: StanzaRules): StanzaVerdict | undefined {
  // Checked once for the whole message (native string scans), not per character below.
  if (text.length > SCANNED_LIMIT || !isWellFormedUnicode(text) || text.includes('&') || text.includes(']]>') || NOT_XML_CHAR.test(text)) return undefined;
  const scan = new Scan(text);
  const open: string[] = [];
  const addresses: Array<string | undefined> = [];
  while (scan.i < text.length) {
    if (!skipText(scan, open.length === 0)) return undefined;
    if (scan.i >= text.length) break;
    scan.i++; // '<'
    if (text.charCodeAt(scan.i) === 47) {
      scan.i++;
      const name = scan.name();
      scan.skipSpace();
      if (name === '' || text.charCodeAt(scan.i) !== 62 || open.pop() !== name) return undefined;
      scan.i++;
      continue;
    }
    const name = scan.name();
    if (name === '' || LEFT_TO_SAXES.has(name) || open.length + 1 >= STANZA_DEPTH_LIMIT) return undefined;
    const tag = readTag(scan);
    if (!tag) return undefined;
    if (open.length === 0) {
      // A top-level element of the framing namespace is <open/> or <close/> to saxes, or malformed.
      if (tag.xmlns === FRAMING_NS) return undefined;
      addresses.push(tag.to);
    }
    if (!tag.empty) open.push(name);
  }
  if (open.length !== 0 || addresses.length === 0) return undefined;
  try {
    for (const to of addresses) judgeAddress(to, rules);
  } catch (err) {
    if (err instanceof Refusal) return err.verdict;
    throw err;
  }
  return { ok: true };
}

/** Character data up to the next '<': false when it leaves the subset (or is not whitespace between stanzas). */
function skipText(scan: Scan, between: boolean): boolean {
  const { text } = scan;
  const next = text.indexOf('<', scan.i);
  const end = next === -1 ? text.length : next;
  if (between) {
    for (; scan.i < end; scan.i++) if (!isSpace(text.charCodeAt(scan.i))) return false;
  }
  // '&', ']]>' and characters XML does not allow were ruled out for the whole message already.
  scan.i = end;
  return true;
}

/** The rest of a start tag after its name: its unprefixed `to`, default namespace, and whether it is empty. */
/** The attribute names of the tag being read (reused: a scan runs synchronously to its end). */
const seen: string[] = [];

function readTag(scan: Scan): { to?: string; xmlns?: string; empty: boolean } | undefined {
  const { text } = scan;
  seen.length = 0;
  const tag: { to?: string; xmlns?: string; empty: boolean } = { empty: false };
  for (;;) {
    const spaced = scan.skipSpace() > 0;
    const c = text.charCodeAt(scan.i);
    if (c === 62) {
      scan.i++;
      return tag;
    }
    if (c === 47) {
      if (text.charCodeAt(scan.i + 1) !== 62) return undefined;
      scan.i += 2;
      tag.empty = true;
      return tag;
    }
    if (!spaced) return undefined;
    const prefixed = text.startsWith('xml:', scan.i);
    if (prefixed) scan.i += 4;
    const local = scan.name();
    if (local === '') return undefined;
    const name = prefixed ? `xml:${local}` : local;
    if (seen.includes(name)) return undefined;
    seen.push(name);
    scan.skipSpace();
    if (text.charCodeAt(scan.i) !== 61) return undefined;
    scan.i++;
    scan.skipSpace();
    const value = readValue(scan, name === 'to' || name === 'xmlns');
    if (value === undefined) return undefined;
    if (name === 'to') tag.to = value;
    else if (name === 'xmlns') {
      if (RESERVED_NS.has(value)) return undefined;
      tag.xmlns = value;
    }
  }
}

/** A quoted attribute value without '<', tabs or line breaks (so it needs no normalising), '' unless `keep`; undefined otherwise. */
function readValue(scan: Scan, keep: boolean): string | undefined {
  const { text } = scan;
  const quote = text.charCodeAt(scan.i);
  if (quote !== 34 && quote !== 39) return undefined;
  const from = ++scan.i;
  for (; scan.i < text.length; scan.i++) {
    const c = text.charCodeAt(scan.i);
    if (c === quote) return keep ? text.slice(from, scan.i++) : (scan.i++, '');
    if (c === 60 || c === 9 || c === 10 || c === 13) return undefined;
  }
  return undefined;
}

/** A BOSH request body: one `<body/>` wrapping any number of stanzas. */
export function judgeBoshBody(text: string, rules: StanzaRules): StanzaVerdict {
  return judge(text, rules, 'bosh');
}

function judge(text: string, rules: StanzaRules, transport: 'ws' | 'bosh'): StanzaVerdict {
  // UTF-16 length never exceeds the UTF-8 byte count, so this is a cheap lower bound checked first.
  if (text.length > STANZA_BYTES_LIMIT || Buffer.byteLength(text) > STANZA_BYTES_LIMIT) return { ok: false, why: 'too-large' };
  const parser = new SaxesParser({ xmlns: true, fragment: transport === 'ws', position: false });
  // The level of a top-level stanza: directly in the message, or inside BOSH's <body/>.
  const stanzaLevel = transport === 'ws' ? 1 : 2;
  let depth = 0;
  let roots = 0;
  // <open/> and <close/> are empty: anything inside them is no stanza Prosody should see.
  let inFraming = false;
  const restricted = (): never => {
    throw new Refusal({ ok: false, why: 'malformed' });
  };
  parser.on('doctype', restricted);
  parser.on('comment', restricted);
  parser.on('processinginstruction', restricted);
  parser.on('xmldecl', restricted);
  parser.on('text', (chunk) => {
    // Between stanzas only whitespace; inside them text is the stanza's own business.
    if (depth < stanzaLevel && chunk.trim() !== '') restricted();
  });
  parser.on('cdata', () => {
    if (depth < stanzaLevel) restricted();
  });
  parser.on('opentag', (tag) => {
    depth++;
    if (depth > STANZA_DEPTH_LIMIT) restricted();
    if (depth === 1) roots++;
    if (inFraming) restricted();
    if (transport === 'bosh' && depth === 1) judgeBoshWrapper(tag, rules, roots);
    else if (transport === 'ws' && depth === 1 && tag.uri === FRAMING_NS) {
      judgeFraming(tag, rules);
      inFraming = true;
    }
    else if (depth === stanzaLevel) judgeAddress(attribute(tag, 'to'), rules);
    if (tag.local === 'conference' && tag.uri === FOCUS_NS) judgeConference(tag, rules);
  });
  parser.on('closetag', () => {
    depth--;
    if (depth === 0) inFraming = false;
  });
  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof Refusal) return err.verdict;
    return { ok: false, why: 'malformed' };
  }
  return roots === 0 && transport === 'bosh' ? { ok: false, why: 'malformed' } : { ok: true };
}

/** An attribute without a namespace (what Prosody and Jicofo read as `to`, `room`); undefined when absent. */
function attribute(tag: SaxesTagNS, local: string): string | undefined {
  for (const name in tag.attributes) {
    const a = tag.attributes[name]!;
    if (a.local === local && a.uri === '') return a.value;
  }
  return undefined;
}

function judgeBoshWrapper(tag: SaxesTagNS, rules: StanzaRules, roots: number): void {
  if (roots > 1 || tag.local !== 'body' || tag.uri !== BOSH_NS) throw new Refusal({ ok: false, why: 'malformed' });
  const to = attribute(tag, 'to');
  if (to !== undefined && normaliseDomain(to) !== rules.domain) throw new Refusal({ ok: false, why: 'wrong-domain' });
}

function judgeFraming(tag: SaxesTagNS, rules: StanzaRules): void {
  if (tag.local === 'open') {
    const to = attribute(tag, 'to');
    if (to === undefined || normaliseDomain(to) !== rules.domain) throw new Refusal({ ok: false, why: 'wrong-domain' });
  } else if (tag.local !== 'close') throw new Refusal({ ok: false, why: 'malformed' });
}

/** A Jicofo conference request names its room in `room`: a MUC JID whose room must be admitted. */
function judgeConference(tag: SaxesTagNS, rules: StanzaRules): void {
  const room = attribute(tag, 'room');
  if (room === undefined) return;
  const parsed = splitJid(room);
  const tenant = parsed ? subdomainTenant(parsed.domain, rules) : undefined;
  if (!parsed || (parsed.domain !== rules.mucDomain && tenant === undefined) || parsed.local === undefined) throw new Refusal({ ok: false, why: 'not-admitted', room: room.slice(0, 200) });
  judgeRoomAddress(parsed.local, rules, tenant);
}

/**
 * The tenant of a MUC address in Jitsi's subdomain form: Prosody's muc_domain_mapper reads
 * `room@<prefix>.<tenant>.<base>` as `[tenant]room@<prefix>.<base>` (the MUC service being
 * `<prefix>.<base>`). Undefined for any other domain.
 */
function subdomainTenant(domain: string, rules: Pick<StanzaRules, 'mucDomain'>): string | undefined {
  const dot = rules.mucDomain.indexOf('.');
  if (dot <= 0) return undefined;
  const prefix = rules.mucDomain.slice(0, dot + 1);
  const base = rules.mucDomain.slice(dot);
  if (!domain.startsWith(prefix) || !domain.endsWith(base) || domain.length <= prefix.length + base.length) return undefined;
  const tenant = domain.slice(prefix.length, domain.length - base.length);
  // One label: `conference.a.b.<base>` is no tenant's form (refused with every other unknown domain).
  return tenant.includes('.') ? undefined : tenant;
}

/**
 * The tenant of a MUC domain in Jitsi's subdomain form (`conference.<tenant>.<domain>`, compared as Prosody
 * would: width and case folded, no trailing dot), `''` for the MUC service itself, undefined otherwise.
 */
export function mucTenantOf(domain: string, mucDomain: string): string | undefined {
  const normal = normaliseDomain(domain);
  if (normal === undefined) return undefined;
  if (normal === mucDomain) return '';
  return subdomainTenant(normal, { mucDomain });
}

/**
 * Jitsi's other MUC services under the XMPP domain, with Jitsi's default names (Debian and
 * docker-jitsi-meet alike): the lobby (`lobby.<domain>`, a lobby room is named like its main room),
 * breakout rooms (`breakout.<domain>`, named by a random id no admission names) and the internal MUC of
 * Jicofo and the bridges (`internal.auth.<domain>`, `internal-muc.<domain>`).
 */
const LOBBY_LABEL = 'lobby.';
const MUC_SERVICE_LABELS = ['lobby.', 'breakout.', 'internal.auth.', 'internal-muc.'];

/**
 * A stanza's `to`, judged against an allowlist; anything not on it is refused:
 * - none, or the XMPP domain itself with or without a local part (the server, the client's own or
 *   another user's JID: the domain hosts accounts, never rooms);
 * - a room of the MUC service (or its tenant subdomain form) the session was admitted to;
 * - the lobby of such a room (`<room>@lobby.<domain>`);
 * - a component of the domain addressed without a local part (`focus.<domain>`, `speakerstats.<domain>`,
 *   …), except the MUC services themselves, whose service address lists and creates rooms.
 * Another domain, another room's lobby, breakout and internal rooms are refused.
 */
function judgeAddress(to: string | undefined, rules: StanzaRules): void {
  if (to === undefined) return;
  const parsed = splitJid(to);
  if (!parsed) throw new Refusal({ ok: false, why: 'malformed' });
  const { domain, local } = parsed;
  const refuse = () => new Refusal({ ok: false, why: 'not-admitted', room: (local ?? to).slice(0, 200) });
  if (domain === rules.domain) return;
  const tenant = subdomainTenant(domain, rules);
  if (domain === rules.mucDomain || tenant !== undefined) {
    // The service itself (room listings, room creation by owner forms) is no room of this session.
    if (local === undefined) throw refuse();
    return judgeRoomAddress(local, rules, tenant);
  }
  if (domain === LOBBY_LABEL + rules.domain && local !== undefined) return judgeRoomAddress(local, rules);
  const component = domain.endsWith(`.${rules.domain}`) && !domain.slice(0, -rules.domain.length - 1).includes('.');
  if (local === undefined && component && !MUC_SERVICE_LABELS.some((label) => domain === label + rules.domain)) return;
  // internal.auth.<domain> has two labels: never a component here, refused with the rest.
  throw refuse();
}

/**
 * The room's local part must be spelled exactly as Jitsi's client spells an admitted room (canonical, as
 * the policy judged it): Prosody folds case and width itself, so `Board` or `ｂｏａｒｄ` would reach `board`,
 * and `b%61ard` would be yet another room. Anything else is refused, not reinterpreted.
 */
function judgeRoomAddress(local: string, rules: StanzaRules, subdomain?: string): void {
  const tenanted = rules.tenants && subdomain === undefined ? /^\[([^\]]+)\](.+)$/.exec(local) : null;
  // A tenant's room in the subdomain form is a room only where roomguard knows tenants at all.
  if (subdomain !== undefined && !rules.tenants) throw new Refusal({ ok: false, why: 'not-admitted', room: local.slice(0, 200) });
  const parts = subdomain !== undefined ? [subdomain, local] : tenanted ? [tenanted[1]!, tenanted[2]!] : [local];
  const judged = parts.join('/');
  if (parts.some((part) => canonicalRoom(part) !== part) || !rules.admitted(judged)) throw new Refusal({ ok: false, why: 'not-admitted', room: local.slice(0, 200) });
}

/**
 * A JID's local part and domain (RFC 7622: the domain ends at the first `/`, the local part at the first
 * `@` before it), the domain compared as Prosody would after nameprep: width and case folded, one trailing
 * dot dropped. A domain with anything but ASCII letters, digits, `-` and `.` left is not read (undefined).
 */
function splitJid(jid: string): { local?: string; domain: string } | undefined {
  const slash = jid.indexOf('/');
  const bare = slash === -1 ? jid : jid.slice(0, slash);
  const at = bare.indexOf('@');
  const local = at === -1 ? undefined : bare.slice(0, at);
  if (local === '') return undefined;
  const domain = normaliseDomain(at === -1 ? bare : bare.slice(at + 1));
  if (domain === undefined) return undefined;
  return local === undefined ? { domain } : { local, domain };
}

function normaliseDomain(raw: string): string | undefined {
  let domain = raw.normalize('NFKC').toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  return /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(domain) ? domain : undefined;
}

/** What the client gets before its WebSocket is closed (RFC 7395 §3.6.1): a stream error, then `<close/>`. */
export function streamErrorFrames(condition: 'policy-violation' | 'not-well-formed' | 'host-unknown'): string[] {
  return [
    `<stream:error xmlns:stream="http://etherx.jabber.org/streams"><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`,
    `<close xmlns="${FRAMING_NS}"/>`,
  ];
}

/** The stream error condition for a refusal. */
export function streamErrorCondition(why: Extract<StanzaVerdict, { ok: false }>['why']): 'policy-violation' | 'not-well-formed' | 'host-unknown' {
  return why === 'malformed' ? 'not-well-formed' : why === 'wrong-domain' ? 'host-unknown' : 'policy-violation';
}

/** A BOSH terminate body (XEP-0124 §17) for a refused request. */
export function boshTerminateBody(condition: 'policy-violation' | 'not-well-formed' | 'host-unknown'): string {
  return `<body xmlns="${BOSH_NS}" type="terminate" condition="${condition === 'not-well-formed' ? 'bad-request' : condition === 'host-unknown' ? 'host-unknown' : 'policy-violation'}"/>`;
}
