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

/** A WebSocket message: stanzas, `<open/>` or `<close/>`, as text. */
export function judgeWebSocketMessage(text: string, rules: StanzaRules): StanzaVerdict {
  return judge(text, rules, 'ws');
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
  if (!parsed || parsed.domain !== rules.mucDomain || parsed.local === undefined) throw new Refusal({ ok: false, why: 'not-admitted', room: room.slice(0, 200) });
  judgeRoomAddress(parsed.local, rules);
}

/** A stanza's `to`: anything on the MUC service must be a room the session was admitted to. */
function judgeAddress(to: string | undefined, rules: StanzaRules): void {
  if (to === undefined) return;
  const parsed = splitJid(to);
  if (!parsed) throw new Refusal({ ok: false, why: 'malformed' });
  if (parsed.domain !== rules.mucDomain) return;
  // The service itself (room listings, room creation by owner forms) is no room of this session.
  if (parsed.local === undefined) throw new Refusal({ ok: false, why: 'not-admitted', room: to.slice(0, 200) });
  judgeRoomAddress(parsed.local, rules);
}

/**
 * The room's local part must be spelled exactly as Jitsi's client spells an admitted room (canonical, as
 * the policy judged it): Prosody folds case and width itself, so `Board` or `ｂｏａｒｄ` would reach `board`,
 * and `b%61ard` would be yet another room. Anything else is refused, not reinterpreted.
 */
function judgeRoomAddress(local: string, rules: StanzaRules): void {
  const tenanted = rules.tenants ? /^\[([^\]]+)\](.+)$/.exec(local) : null;
  const parts = tenanted ? [tenanted[1]!, tenanted[2]!] : [local];
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
