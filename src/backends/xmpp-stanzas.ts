// Reads the XMPP a Jitsi client sends (RFC 7395 WebSocket messages, XEP-0124/0206 BOSH bodies) and says
// whether it may reach Prosody: every stanza addressed to the MUC service must name a room the session was
// admitted to, and so must a Jicofo conference request. Parsed with saxes (a streaming, namespace-aware
// parser that expands no entities but XML's own five and character references); restricted XML as
// RFC 6120 §11.1 asks: no DTD, no comments, no processing instructions. Pure; no I/O.
import { isUtf8 } from 'node:buffer';
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
 * A WebSocket message as the client sent it (bytes): stanzas, `<open/>` or `<close/>`. Invalid UTF-8 is
 * malformed. The common plain stanza is read by a strict scanner of a small subset of XML, over the bytes
 * themselves (quick: this is the relay's cost); anything outside that subset by saxes.
 */
export function judgeWebSocketBytes(bytes: Buffer, rules: StanzaRules): StanzaVerdict {
  if (!isUtf8(bytes)) return { ok: false, why: 'malformed' };
  return scanPlainStanzas(bytes, rules) ?? judge(bytes.toString('utf8'), rules, 'ws');
}

/** A WebSocket message as text (a string with lone surrogates, which no UTF-8 message can hold, goes to saxes). */
export function judgeWebSocketMessage(text: string, rules: StanzaRules): StanzaVerdict {
  return (isWellFormedUnicode(text) ? scanPlainStanzas(Buffer.from(text, 'utf8'), rules) : undefined) ?? judge(text, rules, 'ws');
}

/** The same verdict from saxes alone (the reference the scanner is tested against). */
export function judgeWebSocketMessageWithSaxes(text: string, rules: StanzaRules): StanzaVerdict {
  return judge(text, rules, 'ws');
}

// The subset the scanner reads: ASCII names without prefixes (attributes may be xml:…), quoted attribute
// values without `<` (and, in `to`, without tabs or line breaks, which would need normalising; in
// `xmlns`, without whitespace or non-ASCII at either end, which saxes trims), no `&` or `]]>` anywhere,
// nothing but whitespace between stanzas, only characters XML allows. Anything else — a reference, a
// comment, CDATA, a prefix, a namespace declaration with one, a duplicate attribute, an element named
// open, close or conference — is left to saxes.
//
// How it stays cheap (it runs on every message the client sends): the characters of the whole message
// are checked in one pass four bytes at a time; then tags are read byte by byte with nothing but the
// closing quote or `<` looked for in values, and character data is only looked through for the next `<`.
// No regular expressions (nothing to backtrack); no string is made but the `to` of each stanza.

/** Longer messages go to saxes. */
const SCANNED_LIMIT = 64 * 1024;
/** Namespaces no default declaration may name (saxes refuses them). */
const RESERVED_NS = ['http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/'].map((ns) => Buffer.from(ns));
const FRAMING_NS_BYTES = Buffer.from(FRAMING_NS);
const LEFT_TO_SAXES = ['open', 'close', 'conference'].map((name) => Buffer.from(name));
const TO = Buffer.from('to');
const XMLNS = Buffer.from('xmlns');
const XML_PREFIX = Buffer.from('xml:');
/** More attributes in one tag than this go to saxes (the duplicate check compares each with each). */
const ATTRIBUTE_LIMIT = 32;
const LT = 0x3c;

/** No lone surrogates (String.prototype.isWellFormed, ES2024; the project's TypeScript lib is older). */
const isWellFormedUnicode = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Byte classes. NAME: 1 a name's first character ([A-Za-z_]), 2 any later one (also [0-9.-]). */
const NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  NAME[c] = letter ? 1 : (c >= 48 && c <= 57) || c === 45 || c === 46 ? 2 : 0;
}
const isSpace = (c: number | undefined) => c === 32 || c === 9 || c === 10 || c === 13;

/** The typed array's own search (a V8 builtin): quicker over a few bytes than Buffer's, which goes through JavaScript first. */
const typedIndexOf = Uint8Array.prototype.indexOf;

/** The message copied to a word-aligned place, read as 32-bit words by plainCharacters. */
const words = new Int32Array(SCANNED_LIMIT / 4 + 1);
const wordBytes = new Uint8Array(words.buffer);

/**
 * Whether a message of valid UTF-8 (checked first) holds no `&`, no `]]>` and only characters XML allows.
 * `&` and controls are looked for four bytes at a time with the usual word tests: `(v - 0x01010101) & ~v &
 * 0x80808080` is non-zero exactly when some byte of v is 0, so `v = x ^ 0x26262626` finds an `&`; with
 * 0x20202020 subtracted from x itself it is non-zero exactly when some byte is below 0x20 (a control, or
 * tab and line breaks, which are allowed: those words are looked at byte by byte). Valid UTF-8 holds no
 * surrogates, and 0xEF only leads a three-byte sequence: EF BF BE and EF BF BF are U+FFFE and U+FFFF,
 * which XML does not allow.
 */
function plainCharacters(b: Buffer): boolean {
  wordBytes.set(b);
  // Padding with spaces, which every test passes.
  const count = (b.length + 3) >>> 2;
  wordBytes.fill(0x20, b.length, count * 4);
  for (let w = 0; w < count; w++) {
    const x = words[w]!;
    const amp = x ^ 0x26262626;
    if (((amp - 0x01010101) & ~amp & 0x80808080) !== 0) return false;
    if (((x - 0x20202020) & ~x & 0x80808080) !== 0 && hasControl(w * 4)) return false;
  }
  // Rare sequences: found by Buffer's own (native) search.
  if (b.indexOf(']]>') !== -1) return false;
  for (let at = b.indexOf(0xef); at !== -1; at = b.indexOf(0xef, at + 1)) {
    if (b[at + 1] === 0xbf && (b[at + 2] === 0xbe || b[at + 2] === 0xbf)) return false;
  }
  return true;
}

/** Whether the four copied bytes from `at` hold a control character other than tab and line breaks. */
function hasControl(at: number): boolean {
  for (let k = at; k < at + 4; k++) {
    const c = wordBytes[k]!;
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) return true;
  }
  return false;
}

/** Whether b[from, to) holds exactly `word`'s bytes. */
function bytesEqual(b: Buffer, from: number, to: number, word: Buffer): boolean {
  if (to - from !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[from + k] !== word[k]) return false;
  return true;
}

/** Whether b[aFrom, aTo) and b[bFrom, bTo) hold the same bytes. */
function sameBytes(b: Buffer, aFrom: number, aTo: number, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let k = 0; k < aTo - aFrom; k++) if (b[aFrom + k] !== b[bFrom + k]) return false;
  return true;
}

/** Whether the element named b[from, to) is one the scanner leaves to saxes. */
function leftToSaxes(b: Buffer, from: number, to: number): boolean {
  return bytesEqual(b, from, to, LEFT_TO_SAXES[0]!) || bytesEqual(b, from, to, LEFT_TO_SAXES[1]!) || bytesEqual(b, from, to, LEFT_TO_SAXES[2]!);
}

/** Whether b[from, to) is whitespace only. */
function onlySpace(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(b[i])) return false;
  return true;
}

/** The end of the ASCII name starting at `i` (no prefix), or `i` itself when none starts there. */
function nameEnd(b: Buffer, i: number): number {
  if (i >= b.length || NAME[b[i]!] !== 1) return i;
  do i++;
  while (i < b.length && NAME[b[i]!] !== 0);
  return i;
}

/** A tag's parts, as byte offsets: reused (a scan runs synchronously to its end). */
const tag = { end: 0, empty: false, toFrom: -1, toTo: -1, xmlnsFrom: -1, xmlnsTo: -1 };
/** The open elements' names, as [from, to) pairs. */
const openNames = new Int32Array(2 * STANZA_DEPTH_LIMIT);
/** The attribute names of the tag being read, as [from, to) pairs. */
const attributeNames = new Int32Array(2 * ATTRIBUTE_LIMIT);

/** The scanner: a verdict for a message in the subset, undefined for anything else. */
function scanPlainStanzas(b: Buffer, rules: StanzaRules): StanzaVerdict | undefined {
  if (b.length > SCANNED_LIMIT || !plainCharacters(b)) return undefined;
  let depth = 0;
  const addresses: Array<string | undefined> = [];
  let at = typedIndexOf.call(b, LT, 0);
  if (!onlySpace(b, 0, at === -1 ? b.length : at)) return undefined;
  while (at !== -1) {
    let end: number;
    if (b[at + 1] === 0x2f) {
      const from = at + 2;
      const to = nameEnd(b, from);
      end = to;
      while (isSpace(b[end])) end++;
      if (to === from || b[end] !== 0x3e || depth === 0 || !sameBytes(b, openNames[2 * depth - 2]!, openNames[2 * depth - 1]!, from, to)) return undefined;
      depth--;
      end++;
    } else {
      const from = at + 1;
      const to = nameEnd(b, from);
      if (to === from || leftToSaxes(b, from, to) || depth + 1 >= STANZA_DEPTH_LIMIT || !readTag(b, to)) return undefined;
      end = tag.end;
      if (depth === 0) {
        // A top-level element of the framing namespace is <open/> or <close/> to saxes, or malformed.
        if (tag.xmlnsFrom !== -1 && bytesEqual(b, tag.xmlnsFrom, tag.xmlnsTo, FRAMING_NS_BYTES)) return undefined;
        addresses.push(tag.toFrom === -1 ? undefined : b.toString('utf8', tag.toFrom, tag.toTo));
      }
      if (!tag.empty) {
        openNames[2 * depth] = from;
        openNames[2 * depth + 1] = to;
        depth++;
      }
    }
    // Between stanzas only whitespace; inside them character data (its characters were checked already).
    for (at = end; at < b.length && b[at] !== LT; at++) if (depth === 0 && !isSpace(b[at])) return undefined;
    if (at === b.length) at = -1;
  }
  if (depth !== 0 || addresses.length === 0) return undefined;
  try {
    for (const to of addresses) judgeAddress(to, rules);
  } catch (err) {
    if (err instanceof Refusal) return err.verdict;
    throw err;
  }
  return { ok: true };
}

/** The rest of a start tag after its name, from `i`, into `tag`; false when it leaves the subset. */
function readTag(b: Buffer, i: number): boolean {
  tag.empty = false;
  tag.toFrom = tag.toTo = tag.xmlnsFrom = tag.xmlnsTo = -1;
  let names = 0;
  for (;;) {
    const from = i;
    while (isSpace(b[i])) i++;
    const c = b[i];
    if (c === 0x3e) {
      tag.end = i + 1;
      return true;
    }
    if (c === 0x2f) {
      if (b[i + 1] !== 0x3e) return false;
      tag.end = i + 2;
      tag.empty = true;
      return true;
    }
    if (i === from || names === ATTRIBUTE_LIMIT) return false;
    const nameFrom = i;
    const local = bytesEqual(b, i, Math.min(i + 4, b.length), XML_PREFIX) ? i + 4 : i;
    const nameTo = nameEnd(b, local);
    if (nameTo === local) return false;
    for (let k = 0; k < names; k++) if (sameBytes(b, attributeNames[2 * k]!, attributeNames[2 * k + 1]!, nameFrom, nameTo)) return false;
    attributeNames[2 * names] = nameFrom;
    attributeNames[2 * names + 1] = nameTo;
    names++;
    i = nameTo;
    while (isSpace(b[i])) i++;
    if (b[i] !== 0x3d) return false;
    i++;
    while (isSpace(b[i])) i++;
    const quote = b[i];
    if (quote !== 0x22 && quote !== 0x27) return false;
    const valueFrom = i + 1;
    // Up to the closing quote; a '<' in a value is not XML.
    i = valueFrom;
    for (let v = b[i]; v !== quote; v = b[++i]) if (v === LT || v === undefined) return false;
    if (bytesEqual(b, nameFrom, nameTo, TO)) {
      if (!unspaced(b, valueFrom, i)) return false;
      tag.toFrom = valueFrom;
      tag.toTo = i;
    } else if (bytesEqual(b, nameFrom, nameTo, XMLNS)) {
      // saxes trims a namespace (JavaScript's trim: also no-break and other Unicode spaces) before it
      // compares it: a value that begins or ends with whitespace or a non-ASCII byte is left to saxes.
      const last = b[i - 1]!;
      if (i > valueFrom && (isSpace(b[valueFrom]) || b[valueFrom]! >= 0x80 || isSpace(last) || last >= 0x80)) return false;
      if (bytesEqual(b, valueFrom, i, RESERVED_NS[0]!) || bytesEqual(b, valueFrom, i, RESERVED_NS[1]!)) return false;
      tag.xmlnsFrom = valueFrom;
      tag.xmlnsTo = i;
    }
    i++;
  }
}

/** Whether b[from, to) holds no tab or line break (an attribute value the parser would not rewrite). */
function unspaced(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = b[k];
    if (c === 9 || c === 10 || c === 13) return false;
  }
  return true;
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

const PLAIN_DOMAIN = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/;

function normaliseDomain(raw: string): string | undefined {
  // What nearly every stanza names: already folded (NFKC and lower case leave it as it is).
  if (PLAIN_DOMAIN.test(raw)) return raw;
  let domain = raw.normalize('NFKC').toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  return PLAIN_DOMAIN.test(domain) ? domain : undefined;
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
