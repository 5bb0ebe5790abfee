// The XMPP reading of the Jitsi backend: which WebSocket messages and BOSH bodies may reach Prosody.
// Every allowed form has refused neighbours; the parser is fuzzed for crashes, hangs and memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeBoshBody, judgeWebSocketMessage, judgeWebSocketMessageWithSaxes, STANZA_BYTES_LIMIT, STANZA_DEPTH_LIMIT, type StanzaRules } from '../../src/backends/xmpp-stanzas.js';

const rules: StanzaRules = { domain: 'meet.test', mucDomain: 'conference.meet.test', tenants: false, admitted: (room) => room === 'board' || room === 'caf%c3%a9' };
const tenantRules: StanzaRules = { ...rules, tenants: true, admitted: (room) => room === 'acme/board' };
const CLIENT = 'xmlns="jabber:client"';
const join = (to: string, ns = CLIENT) => `<presence ${ns} to="${to}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`;
/** Both readings of a message must agree: the quick scanner of plain stanzas and saxes. */
const ws = (text: string, r = rules) => {
  const verdict = judgeWebSocketMessage(text, r);
  expect(verdict, `the scanner and saxes disagree on ${text.slice(0, 200)}`).toEqual(judgeWebSocketMessageWithSaxes(text, r));
  return verdict;
};
const bosh = (inner: string, attrs = '') => judgeBoshBody(`<body xmlns="http://jabber.org/protocol/httpbind" rid="1" sid="s"${attrs}>${inner}</body>`, rules);

describe('WebSocket messages', () => {
  it('lets the stream open to the configured domain, and close', () => {
    expect(ws('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.test" version="1.0"/>').ok).toBe(true);
    expect(ws('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>').ok).toBe(true);
  });

  it('refuses a stream to another domain, or to none', () => {
    for (const to of ['other.test', 'conference.meet.test', '']) expect(ws(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${to}" version="1.0"/>`)).toMatchObject({ ok: false, why: 'wrong-domain' });
    expect(ws('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" version="1.0"/>')).toMatchObject({ ok: false, why: 'wrong-domain' });
  });

  it('lets a join to the admitted room through, and stanzas to anything that is not the MUC service', () => {
    expect(ws(join('board@conference.meet.test/alice')).ok).toBe(true);
    expect(ws(join('caf%c3%a9@conference.meet.test/alice')).ok).toBe(true);
    expect(ws(`<iq ${CLIENT} type="get" to="meet.test" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`).ok).toBe(true);
    expect(ws(`<presence ${CLIENT}/>`).ok).toBe(true);
    expect(ws('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>').ok).toBe(true);
  });

  it('refuses joins to other rooms in every spelling', () => {
    const spellings = [
      'other@conference.meet.test/alice', 'Board@conference.meet.test/alice', 'ｂｏａｒｄ@conference.meet.test/a', 'b%61ard@conference.meet.test/a',
      'board%20@conference.meet.test/a', ' board@conference.meet.test/a', 'other@CONFERENCE.meet.test/a', 'other@conference.meet.test./a',
      'other@ｃｏｎｆｅｒｅｎｃｅ.meet.test/a', '[acme]board@conference.meet.test/a', 'caf\u00e9@conference.meet.test/a', 'conference.meet.test',
    ];
    for (const to of spellings) expect(ws(join(to)), to).toMatchObject({ ok: false });
    expect(ws(join('other@conference.meet.test/alice'))).toEqual({ ok: false, why: 'not-admitted', room: 'other' });
  });

  it('reads what Prosody reads: entities, quoting, prefixes and redeclared namespaces', () => {
    const refused = [
      `<presence ${CLIENT} to="&#111;ther@conference.meet.test/a"/>`,
      `<presence ${CLIENT} to='other@conference.meet.test/a'/>`,
      `<c:presence xmlns:c="jabber:client" to="other@conference.meet.test/a"/>`,
      `<presence xmlns="urn:other" to="other@conference.meet.test/a"/>`,
      `<presence\n${CLIENT}\tto = "other@conference.meet.test/a" ></presence >`,
      `<iq ${CLIENT} type="set" to="other@conference.meet.test"><query xmlns="http://jabber.org/protocol/muc#owner"/></iq>`,
      `<iq ${CLIENT} type="set" to="focus.meet.test"><conference xmlns="http://jitsi.org/protocol/focus" room="other@conference.meet.test"/></iq>`,
      `<iq ${CLIENT} type="set" to="focus.meet.test"><f:conference xmlns:f="http://jitsi.org/protocol/focus" room="Board@conference.meet.test"/></iq>`,
      `<iq ${CLIENT} type="set" to="focus.meet.test"><conference xmlns="http://jitsi.org/protocol/focus" room="board@elsewhere.test"/></iq>`,
    ];
    for (const text of refused) expect(ws(text), text).toMatchObject({ ok: false });
    expect(ws(`<iq ${CLIENT} type="set" to="focus.meet.test"><conference xmlns="http://jitsi.org/protocol/focus" room="board@conference.meet.test"/></iq>`).ok).toBe(true);
    // An attribute in another namespace is not the `to` Prosody routes by.
    expect(ws(`<presence ${CLIENT} xmlns:x="urn:x" x:to="other@conference.meet.test/a"/>`).ok).toBe(true);
  });

  it('refuses what is not restricted, well-formed XML', () => {
    const bad = [
      `<presence ${CLIENT} to="board@conference.meet.test/a">`, `<presence ${CLIENT}><!-- c --></presence>`, '<?xml version="1.0"?><presence/>',
      '<!DOCTYPE x [<!ENTITY e "other">]><presence/>', `<presence ${CLIENT} to="&e;@conference.meet.test/a"/>`, `<presence ${CLIENT}/><?pi x?>`,
      '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.test"><x/></open>'.replace('<x/>', '<bogus xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>'),
    ];
    for (const text of bad) expect(ws(text), text).toMatchObject({ ok: false });
  });

  it('judges every stanza of a message, even one packed after an allowed one', () => {
    expect(ws(`${join('board@conference.meet.test/a')}${join('other@conference.meet.test/a')}`)).toMatchObject({ ok: false, room: 'other' });
    expect(ws(`${join('board@conference.meet.test/a')}\n${join('board@conference.meet.test/b')}`).ok).toBe(true);
  });

  it('bounds size and depth', () => {
    const padded = `<message ${CLIENT}><body>${'a'.repeat(STANZA_BYTES_LIMIT)}</body></message>`;
    expect(ws(padded)).toEqual({ ok: false, why: 'too-large' });
    const deep = (n: number) => `<message ${CLIENT}>${'<a>'.repeat(n)}${'</a>'.repeat(n)}</message>`;
    expect(ws(deep(STANZA_DEPTH_LIMIT - 1)).ok).toBe(true);
    expect(ws(deep(STANZA_DEPTH_LIMIT))).toMatchObject({ ok: false, why: 'malformed' });
  });

  it('reads tenant rooms as [tenant]room, and in the subdomain form Prosody maps to it', () => {
    expect(ws(join('[acme]board@conference.meet.test/a'), tenantRules).ok).toBe(true);
    expect(ws(join('board@conference.acme.meet.test/a'), tenantRules).ok).toBe(true);
    expect(ws(join('board@conference.other.meet.test/a'), tenantRules)).toMatchObject({ ok: false, why: 'not-admitted' });
    expect(ws(join('other@conference.acme.meet.test/a'), tenantRules)).toMatchObject({ ok: false, why: 'not-admitted' });
    expect(ws(join('[acme]board@conference.acme.meet.test/a'), tenantRules)).toMatchObject({ ok: false, why: 'not-admitted' });
    // Without tenants a subdomain-form address is some tenant's room, never the admitted one.
    expect(ws(join('board@conference.acme.meet.test/a'))).toMatchObject({ ok: false, why: 'not-admitted' });
    expect(ws(`<iq ${CLIENT} type="set" to="focus.meet.test"><conference xmlns="http://jitsi.org/protocol/focus" room="board@conference.acme.meet.test"/></iq>`, tenantRules).ok).toBe(true);
    expect(ws(`<iq ${CLIENT} type="set" to="focus.meet.test"><conference xmlns="http://jitsi.org/protocol/focus" room="board@conference.acme.meet.test"/></iq>`)).toMatchObject({ ok: false });
    for (const to of ['board@conference.meet.test/a', '[other]board@conference.meet.test/a', '[ACME]board@conference.meet.test/a', '[acme]Board@conference.meet.test/a', '[acme]other@conference.meet.test/a']) {
      expect(ws(join(to), tenantRules), to).toMatchObject({ ok: false, why: 'not-admitted' });
    }
  });
});

describe('the allowlist of destinations', () => {
  const iq = (to: string) => `<iq ${CLIENT} type="get" to="${to}" id="1"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`;
  it('lets through the domain, its accounts, its components without a local part, and the lobby of an admitted room', () => {
    for (const to of ['meet.test', 'someone@meet.test/res', 'focus.meet.test', 'speakerstats.meet.test', 'focus.meet.test/x']) expect(ws(iq(to)).ok, to).toBe(true);
    expect(ws(join('board@lobby.meet.test/alice')).ok).toBe(true);
    expect(ws(join('[acme]board@lobby.meet.test/a'), tenantRules).ok).toBe(true);
  });

  it('refuses every other destination: another lobby, breakout and internal rooms, MUC services, other domains', () => {
    const refused = [
      'other@lobby.meet.test/alice', 'Board@lobby.meet.test/a', 'board@lobby.acme.meet.test/a', 'abc123@breakout.meet.test/a',
      'jvbbrewery@internal.auth.meet.test/a', 'jvbbrewery@internal-muc.meet.test/a', 'focus@auth.meet.test/focus',
      'board@conference.evil.example/a', 'board@evil.example', 'evil.example', 'meet.test.evil.example', 'x.y.meet.test',
      'internal.auth.meet.test', 'internal-muc.meet.test', 'lobby.meet.test', 'breakout.meet.test', 'conference.meet.test', 'board@x.meet.test',
    ];
    for (const to of refused) expect(ws(join(to)), to).toMatchObject({ ok: false, why: 'not-admitted' });
    for (const to of refused) expect(bosh(join(to)), to).toMatchObject({ ok: false, why: 'not-admitted' });
  });

  it('reads an admission as an own entry only: prototype names are no rooms', () => {
    const own: StanzaRules = { ...rules, admitted: (room) => Object.hasOwn(Object.create(null) as object, room) };
    for (const name of ['constructor', '__proto__', 'tostring', 'hasownproperty', 'valueof']) {
      expect(ws(join(`${name}@conference.meet.test/a`), own), name).toMatchObject({ ok: false });
      expect(ws(join(`${name}@lobby.meet.test/a`), own), name).toMatchObject({ ok: false });
    }
  });
});

describe('BOSH bodies', () => {
  it('lets a body with admitted stanzas through and checks the session request\'s domain', () => {
    expect(bosh(join('board@conference.meet.test/a')).ok).toBe(true);
    expect(bosh('', ' to="meet.test" xml:lang="en" wait="60" hold="1"').ok).toBe(true);
    expect(bosh('', ' to="other.test"')).toMatchObject({ ok: false, why: 'wrong-domain' });
  });

  it('refuses other rooms, packed or split, and anything that is not one <body/>', () => {
    expect(bosh(`${join('board@conference.meet.test/a')}${join('other@conference.meet.test/a')}`)).toMatchObject({ ok: false, room: 'other' });
    expect(bosh(`<presence ${CLIENT} to="other@conf`)).toMatchObject({ ok: false, why: 'malformed' });
    expect(judgeBoshBody(`erence.meet.test/a"/></body>`, rules)).toMatchObject({ ok: false, why: 'malformed' });
    expect(judgeBoshBody('', rules)).toMatchObject({ ok: false });
    expect(judgeBoshBody(`<body xmlns="urn:other">${join('other@conference.meet.test/a')}</body>`, rules)).toMatchObject({ ok: false });
    expect(judgeBoshBody('<body xmlns="http://jabber.org/protocol/httpbind"/><body xmlns="http://jabber.org/protocol/httpbind"/>', rules)).toMatchObject({ ok: false });
  });
});

describe('the parser under fuzzing', () => {
  const pieces = fc.constantFrom('<', '>', '/', '"', "'", '=', '&', ';', '#', 'x', ':', '<!--', '-->', '<?', '?>', '<![CDATA[', ']]>', '<!DOCTYPE', '&#0;', '&#x10FFFF;', 'presence', 'to', '@', 'conference.meet.test', ' xmlns="jabber:client"', ' xmlns:a="b"', 'a:', '\u0000', '\uFFFF', '\uD800', 'ｂ');
  it('never throws and never lets a non-admitted join through, whatever the bytes', () => {
    fc.assert(fc.property(fc.array(pieces, { maxLength: 60 }), fc.string({ maxLength: 40 }), (parts, noise) => {
      const text = parts.join('') + noise;
      for (const verdict of [ws(text), judgeBoshBody(text, rules)]) expect(typeof verdict.ok).toBe('boolean');
      const packed = ws(`${text}${join('other@conference.meet.test/x')}`);
      expect(packed.ok).toBe(false);
    }), { numRuns: 3000 });
  });

  it('reads like saxes wherever the quick scanner answers (differential)', () => {
    const tags = fc.constantFrom('presence', 'iq', 'message', 'x', 'open', 'conference', 'a.b', 'p:presence', '_x', 'body');
    const names = fc.constantFrom('to', 'xmlns', 'xml:lang', 'type', 'id', 'x:to', 'to ', 'xmlns:x');
    const values = fc.constantFrom('board@conference.meet.test/a', 'other@conference.meet.test/a', 'Board@conference.meet.test', 'conference.meet.test', 'meet.test', 'jabber:client', 'urn:ietf:params:xml:ns:xmpp-framing', 'http://www.w3.org/XML/1998/namespace', 'a>b', 'a\tb', 'ｂoard@conference.meet.test', '',
      // saxes trims a namespace (JavaScript's trim) before reading it; the scanner must not read these as it does not.
      ' urn:ietf:params:xml:ns:xmpp-framing', 'urn:ietf:params:xml:ns:xmpp-framing\t', '\u00a0urn:ietf:params:xml:ns:xmpp-framing', ' http://www.w3.org/2000/xmlns/', 'http://www.w3.org/XML/1998/namespace\n', '\ufeffjabber:client', 'jabber:client\u3000');
    const attr = fc.tuple(fc.constantFrom(' ', '\n', '\t', '\u00a0', ''), names, fc.constantFrom('=', ' = ', '=='), fc.constantFrom('"', "'"), values).map(([sp, n, eq, q, v]) => `${sp}${n}${eq}${q}${v}${q}`);
    const element: fc.Arbitrary<string> = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.tuple(tags, fc.array(attr, { maxLength: 4 }), fc.constantFrom('/>', '>', ' >', '/ >')).map(([t, a, end]) => `<${t}${a.join('')}${end}${end === '>' || end === ' >' ? `</${t}>` : ''}`),
        fc.tuple(tags, fc.array(attr, { maxLength: 3 }), fc.array(tie('node'), { maxLength: 3 }), fc.constantFrom('', 'text', ' ', '&amp;', ']]>', '<!--c-->')).map(([t, a, kids, txt]) => `<${t}${a.join('')}>${txt}${kids.join('')}</${t}>`)),
    })).node;
    fc.assert(fc.property(fc.array(element, { minLength: 1, maxLength: 3 }), fc.constantFrom('', ' ', '\n', 'x', '\ufeff'), (stanzas, gap) => {
      ws(stanzas.join(gap));
    }), { numRuns: 5000 });
  });

  it('answers deep, wide and long inputs with bounded memory', () => {
    const before = process.memoryUsage().heapUsed;
    const inputs = ['<a>'.repeat(100_000), `<a ${Array.from({ length: 5000 }, (_, i) => `a${i}="x"`).join(' ')}/>`, `<a b="${'&amp;'.repeat(50_000)}"/>`, '<'.repeat(STANZA_BYTES_LIMIT)];
    for (const text of inputs) for (let i = 0; i < 5; i++) expect(typeof ws(text).ok).toBe('boolean');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024 * 1024);
  });
});
