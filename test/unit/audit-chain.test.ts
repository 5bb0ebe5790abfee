// The audit record format without I/O: canonical JSON, hash linkage, and what the privacy settings let through.
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GENESIS, canonicalJson, recordHash, recordLine, sealRecord, sealRecordLine } from '../../src/audit/chain.js';
import { checkpointKeys, checkpointMessage, checkpointSigner, exportManifestMessage, purgeMessage, verifyCheckpointSignature, verifySignedMessage } from '../../src/audit/checkpoint.js';
import { describeFile, parseManifest } from '../../src/audit/manifest.js';
import { pseudonymKey, pseudonymOf, truncateIp, hmacIp, canonicalIp, formatIp } from '../../src/audit/privacy.js';
import { toRecordBody, validateEvent, type AuditEvent, type AuditRecord, type PrivacySettings } from '../../src/audit/record.js';
import { csvCell, formatCsv, matchesFilters } from '../../src/audit/query.js';
import { openField, sealField } from '../../src/audit/person-keys.js';
import type { Decision } from '../../src/policy/types.js';

const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function privacy(over: Partial<PrivacySettings> = {}): PrivacySettings {
  return { ip: 'truncate', identity: 'clear', names: false, pseudonymKey: pseudonymKey(signingKeyPem), ...over };
}

const decision: Decision = {
  outcome: 'allow', room: 'board', role: 'moderator', reasons: [],
  policy: { file: 'policies/board.yaml', sha256: 'a'.repeat(64), pattern: 'board', risk: 'high' },
  rule: { kind: 'allow', index: 0, line: 7 },
};

const joinEvent: AuditEvent = {
  type: 'room.decision', outcome: 'allow', decision,
  actor: { sub: 'u-123', iss: 'https://id.example.org', email: 'ada@example.org', name: 'Ada Lovelace' },
  auth: { methods: ['webauthn'], mfaAgeSeconds: 42 },
  client: { ip: '203.0.113.77', userAgent: 'Firefox' },
  session: '0123456789abcdef', requestId: 'req-1',
};

function seal(body: ReturnType<typeof toRecordBody>, seq: number, prev: string): AuditRecord {
  return sealRecord({ v: 1, id: `id-${seq}`, ts: '2024-05-01T10:00:00.000Z', seq, instance: 'a', ...body, prev });
}

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace, whatever the insertion order', () => {
    const a = { b: 1, a: { z: [3, { y: true, x: null }], c: 'ü"\n' } };
    const b = { a: { c: 'ü"\n', z: [3, { x: null, y: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"ü\\"\\n","z":[3,{"x":null,"y":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('orders keys by UTF-16 code units and serialises numbers like ECMAScript (RFC 8785)', () => {
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3, a: 4, A: 5 })).toBe('{"\\r":2,"1":3,"A":5,"a":4,"€":1}');
    expect(canonicalJson([1e21, 0.1, -0, 1e-7, 100])).toBe('[1e+21,0.1,0,1e-7,100]');
  });

  it('leaves out undefined properties and refuses values JSON cannot carry', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ n: Infinity })).toThrow(TypeError);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});

function independentCanonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => independentCanonical(item ?? null)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).filter((key) => obj[key] !== undefined).sort().map((key) => `${JSON.stringify(key)}:${independentCanonical(obj[key])}`).join(',')}}`;
}

describe('hash chain', () => {
  it('hashes sha256(prev + "\\n" + canonical JSON of the record without its hash)', () => {
    const record = seal(toRecordBody(joinEvent, privacy(), undefined), 1, GENESIS);
    const { hash, ...body } = record;
    expect(hash).toBe(createHash('sha256').update(`${GENESIS}\n${canonicalJson(body)}`).digest('hex'));
    expect(recordHash(body)).toBe(hash);
  });

  it('links each record to the one before, so changing an earlier record breaks the link', () => {
    const first = seal(toRecordBody(joinEvent, privacy(), undefined), 1, GENESIS);
    const second = seal(toRecordBody({ type: 'logout', outcome: 'success' }, privacy(), undefined), 2, first.hash);
    expect(second.prev).toBe(first.hash);
    const changed = { ...first, room: 'other' };
    const { hash: _h, ...changedBody } = changed;
    expect(recordHash(changedBody)).not.toBe(first.hash);
    expect(recordHash(changedBody)).not.toBe(second.prev);
  });

  it('writes the same record and line from one encoding as sealRecord + recordLine do, for any body', () => {
    // Keys around "hash" in code-unit order ("h", "ha", "hasg", "hasi", "hash2", "Z", "é"…) and nested values.
    const key = fc.oneof(fc.constantFrom('h', 'ha', 'has', 'hasg', 'hasi', 'hash2', 'hashes', 'H', 'Z', 'a', 'z', 'é', '~', 'id', 'prev'), fc.string({ maxLength: 6 }));
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string(), fc.integer())));
    fc.assert(fc.property(fc.dictionary(key.filter((k) => k !== 'hash'), value), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (extra, prev) => {
      const body = { ...extra, v: 1, seq: 7, prev } as unknown as Omit<AuditRecord, 'hash'>;
      const { record, line } = sealRecordLine(body);
      const reference = sealRecord(body);
      expect(record).toEqual(reference);
      expect(line).toBe(recordLine(reference));
      expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(reference)));
      // And against a serializer written independently here (Array#sort orders strings by UTF-16 code units).
      expect(line).toBe(`${independentCanonical(record)}\n`);
    }), { numRuns: 500 });
    expect(() => sealRecordLine({ ...seal(toRecordBody(joinEvent, privacy(), undefined), 1, GENESIS) })).toThrow(TypeError);
  });

  it('fills room, role, policy and reason from a decision', () => {
    const body = toRecordBody({ type: 'room.decision', outcome: 'deny', decision: { ...decision, outcome: 'deny', reasons: ['RG_POLICY_DENY_RULE', 'RG_MFA_REQUIRED'], rule: { kind: 'deny', index: 1, line: 12 } } }, privacy(), undefined);
    expect(body).toMatchObject({ room: 'board', role: 'moderator', reason: 'RG_POLICY_DENY_RULE', policy: { file: 'policies/board.yaml', sha256: 'a'.repeat(64), rule: 'deny[1]', line: 12 } });
    expect(body.details?.reasons).toEqual(['RG_POLICY_DENY_RULE', 'RG_MFA_REQUIRED']);
  });
});

describe('privacy settings', () => {
  it('truncates IPv4 to /24, IPv6 to /48 and IPv4-mapped IPv6 to the IPv4 /24', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0/24');
    expect(truncateIp('2001:db8:abcd:12:1:2:3:4')).toBe('2001:db8:abcd::/48');
    expect(truncateIp('2001:DB8::1')).toBe('2001:db8::/48');
    expect(truncateIp('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
    expect(truncateIp('::ffff:c633:6409')).toBe('198.51.100.0/24');
    expect(truncateIp('fe80::1%eth0')).toBe('fe80::/48');
    expect(truncateIp('not-an-ip')).toBeUndefined();
    expect(truncateIp('203.0.113.77, 10.0.0.1')).toBeUndefined();
  });

  it('writes no full address under truncate, for IPv4, IPv6 and IPv4-mapped clients', () => {
    for (const ip of ['203.0.113.77', '2001:db8:abcd:12:1:2:3:4', '::ffff:198.51.100.9']) {
      const record = seal(toRecordBody({ ...joinEvent, client: { ip } }, privacy(), undefined), 1, GENESIS);
      const line = canonicalJson(record);
      expect(line).not.toContain(ip);
      expect(line).not.toContain('.77');
      expect(line).not.toContain(':1:2:3:4');
      expect(line).not.toContain('100.9');
    }
  });

  it('keys addresses with the day key under hmac, and drops them under none', () => {
    const key = Buffer.alloc(32, 7);
    const body = toRecordBody(joinEvent, privacy({ ip: 'hmac' }), key);
    expect(body.client?.ip).toMatch(/^[0-9a-f]{32}$/);
    expect(body.client?.ip).toBe(hmacIp('::ffff:203.0.113.77', key));
    expect(body.client?.ip).not.toBe(hmacIp('203.0.113.77', Buffer.alloc(32, 8)));
    expect(() => toRecordBody(joinEvent, privacy({ ip: 'hmac' }), undefined)).toThrow();
    expect(toRecordBody(joinEvent, privacy({ ip: 'none' }), undefined).client).toEqual({ userAgent: 'Firefox' });
    expect(toRecordBody(joinEvent, privacy({ ip: 'full' }), undefined).client?.ip).toBe('203.0.113.77');
    expect(formatIp(canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
  });

  it('writes neither sub, iss, e-mail nor name under pseudonymous, and the same person gets the same pseudonym', () => {
    const body = toRecordBody(joinEvent, privacy({ identity: 'pseudonymous', names: true }), undefined);
    const line = canonicalJson(body);
    for (const secret of ['u-123', 'ada@example.org', 'Ada Lovelace', 'id.example.org']) expect(line).not.toContain(secret);
    expect(body.actor).toEqual({ pseudonym: pseudonymOf(pseudonymKey(signingKeyPem), 'https://id.example.org', 'u-123') });
    expect((body.actor as { pseudonym: string }).pseudonym).toMatch(/^[0-9a-f]{64}$/);
    const again = toRecordBody(joinEvent, privacy({ identity: 'pseudonymous' }), undefined);
    expect(again.actor).toEqual(body.actor);
    const otherIssuer = toRecordBody({ ...joinEvent, actor: { sub: 'u-123', iss: 'https://other.example' } }, privacy({ identity: 'pseudonymous' }), undefined);
    expect(otherIssuer.actor).not.toEqual(body.actor);
    const otherKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(pseudonymOf(pseudonymKey(otherKey), 'https://id.example.org', 'u-123')).not.toBe((body.actor as { pseudonym: string }).pseudonym);
  });

  it('records display names only when audit.names is on', () => {
    expect(toRecordBody(joinEvent, privacy(), undefined).actor).toEqual({ sub: 'u-123', iss: 'https://id.example.org', email: 'ada@example.org' });
    expect(toRecordBody(joinEvent, privacy({ names: true }), undefined).actor).toMatchObject({ name: 'Ada Lovelace' });
  });

  it('never writes a session id: anything but a short hex hash is hashed again', () => {
    const id = 'Zk3p_9aQ-very-secret-session-id-value-1234567';
    const body = toRecordBody({ ...joinEvent, session: id }, privacy(), undefined);
    expect(body.session).toMatch(/^[0-9a-f]{16}$/);
    expect(canonicalJson(body)).not.toContain(id);
  });

  it('copies only known fields, so smuggled properties never reach the record', () => {
    const sneaky = { ...joinEvent, headers: { cookie: 'roomguard_session=abc' }, token: 'eyJhbGciOi' } as AuditEvent;
    const line = canonicalJson(toRecordBody(sneaky, privacy(), undefined));
    expect(line).not.toContain('cookie');
    expect(line).not.toContain('eyJhbGciOi');
  });

  it('refuses malformed events and oversized details', () => {
    expect(() => validateEvent({ type: 'audit.checkpoint' as 'logout', outcome: 'success' })).toThrow(/reserved/);
    // Purges are signed by the writer (appendPurge); a caller cannot append one unsigned.
    expect(() => validateEvent({ type: 'audit.purge' as 'logout', outcome: 'success' })).toThrow(/reserved/);
    expect(() => validateEvent({ type: 'nope' as 'logout', outcome: 'success' })).toThrow(TypeError);
    expect(() => validateEvent({ type: 'logout', outcome: 'maybe' as 'success' })).toThrow(TypeError);
    expect(() => validateEvent({ type: 'logout', outcome: 'success', details: { x: 'y'.repeat(600) } })).toThrow(/longer/);
    expect(() => validateEvent({ type: 'logout', outcome: 'success', details: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 1])) })).toThrow(/at most/);
    expect(() => validateEvent({ type: 'logout', outcome: 'success', details: { nested: { a: 1 } as unknown as string } })).toThrow(TypeError);
    expect(() => validateEvent({ type: 'logout', outcome: 'success', details: { files: ['a.yaml'], count: 2, ok: true } })).not.toThrow();
  });
});

describe('checkpoint signatures', () => {
  it('signs exactly "roomguard-audit-checkpoint v1\\n<instance>\\n<seq>\\n<hash>" with Ed25519', () => {
    const signer = checkpointSigner(signingKeyPem);
    const head = { instance: 'gw-1', seq: 42, hash: 'b'.repeat(64) };
    expect(checkpointMessage(head)).toBe(`roomguard-audit-checkpoint v1\ngw-1\n42\n${'b'.repeat(64)}`);
    const signature = signer.sign(head);
    const keys = checkpointKeys(signer.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect([...keys.keys()]).toEqual([signer.keyId]);
    expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(verifyCheckpointSignature(head, signature, keys.get(signer.keyId)!)).toBe(true);
    expect(verifyCheckpointSignature({ ...head, seq: 43 }, signature, keys.get(signer.keyId)!)).toBe(false);
  });

  it('signs a purge over exactly "roomguard-audit-purge v1\\n<instance>\\n<seq>\\n<prev>\\n<ts>\\n<canonical details>"', () => {
    const signer = checkpointSigner(signingKeyPem);
    const details = { segment: '2024-05-01.jsonl', records: 3, firstSeq: 1, lastSeq: 3, reason: 'retention', retentionDays: 1 };
    const purge = { instance: 'gw-1', seq: 9, prev: 'c'.repeat(64), ts: '2024-05-03T12:00:00.000Z', details };
    const signature = signer.signPurge(purge);
    // The text a verifier builds from the documentation, not from our own helper.
    const text = `roomguard-audit-purge v1\ngw-1\n9\n${'c'.repeat(64)}\n2024-05-03T12:00:00.000Z\n{"firstSeq":1,"lastSeq":3,"reason":"retention","records":3,"retentionDays":1,"segment":"2024-05-01.jsonl"}`;
    expect(verify(null, Buffer.from(text), signer.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    for (const moved of [{ ...purge, seq: 10 }, { ...purge, prev: 'd'.repeat(64) }, { ...purge, instance: 'gw-2' }, { ...purge, details: { ...details, lastSeq: 4 } }]) {
      expect(verify(null, Buffer.from(purgeMessage(moved)), signer.publicKey, Buffer.from(signature, 'base64'))).toBe(false);
    }
  });

  it('signs an export manifest over "roomguard-audit-export v2\\n" and its canonical JSON, files included', () => {
    const signer = checkpointSigner(signingKeyPem);
    const files = { '2024-05-02.jsonl': { sha256: 'a'.repeat(64), lines: 10 } };
    const manifest = { v: 2, since: '2024-05-02', until: '2024-05-02', createdAt: '2024-05-04T00:00:00.000Z', instances: { gw: { firstSeq: 11, firstPrev: 'b'.repeat(64), lastSeq: 20, lastHash: 'c'.repeat(64), files } } };
    expect(exportManifestMessage(manifest)).toBe(`roomguard-audit-export v2\n{"createdAt":"2024-05-04T00:00:00.000Z","instances":{"gw":{"files":{"2024-05-02.jsonl":{"lines":10,"sha256":"${'a'.repeat(64)}"}},"firstPrev":"${'b'.repeat(64)}","firstSeq":11,"lastHash":"${'c'.repeat(64)}","lastSeq":20}},"since":"2024-05-02","until":"2024-05-02","v":2}`);
    const signature = signer.signMessage(exportManifestMessage(manifest));
    expect(verifySignedMessage(exportManifestMessage(manifest), signature, signer.publicKey)).toBe(true);
    expect(verifySignedMessage(exportManifestMessage({ ...manifest, since: '2024-05-01' }), signature, signer.publicKey)).toBe(false);
    const otherFile = { ...manifest, instances: { gw: { ...manifest.instances.gw, files: { '2024-05-02.jsonl': { sha256: 'd'.repeat(64), lines: 10 } } } } };
    expect(verifySignedMessage(exportManifestMessage(otherFile), signature, signer.publicKey)).toBe(false);
  });
});

describe('export manifest from untrusted bytes', () => {
  const chain = { firstSeq: 1, firstPrev: '0'.repeat(64), lastSeq: 3, lastHash: 'c'.repeat(64), files: { '2024-05-02.jsonl': { sha256: 'a'.repeat(64), lines: 3 }, 'checkpoints.jsonl': { sha256: 'e'.repeat(64), lines: 1 } } };
  const good = { v: 2, since: '2024-05-02', until: '2024-05-02', createdAt: '2024-05-04T00:00:00.000Z', instances: { gw: chain } };

  it('reads a well-formed one and refuses every other shape with a reason, never a crash', () => {
    expect(parseManifest(JSON.stringify(good))).toEqual(good);
    const refused: Array<[unknown, RegExp]> = [
      ['{', /not JSON/],
      [[], /not a JSON object/],
      [{ ...good, v: 1 }, /older roomguard \(v1\)/],
      [{ ...good, v: 3 }, /unknown manifest version 3/],
      [{ ...good, since: 'yesterday' }, /since, until or createdAt/],
      [{ ...good, instances: null }, /no instances/],
      [{ ...good, instances: { '../etc': chain } }, /not an instance name/],
      [{ ...good, instances: { gw: { ...chain, lastSeq: 0 } } }, /firstSeq, lastSeq/],
      [{ ...good, instances: { gw: { ...chain, files: undefined } } }, /no files/],
      [{ ...good, instances: { gw: { ...chain, files: { '../../x': { sha256: 'a'.repeat(64), lines: 1 } } } } }, /neither a segment nor checkpoints.jsonl/],
      [{ ...good, instances: { gw: { ...chain, files: { '2024-05-02.jsonl': { sha256: 'x', lines: 1 } } } } }, /without sha256 and lines/],
    ];
    for (const [value, reason] of refused) expect(parseManifest(typeof value === 'string' ? value : JSON.stringify(value))).toMatch(reason);
  });

  it('describes a file by its SHA-256 and its complete lines', () => {
    expect(describeFile(Buffer.from('a\nb\n'))).toEqual({ sha256: createHash('sha256').update('a\nb\n').digest('hex'), lines: 2 });
    expect(describeFile(Buffer.from('a\nb')).lines).toBe(1);
    expect(describeFile(Buffer.alloc(0)).lines).toBe(0);
  });
});

describe('CSV', () => {
  it('neutralises spreadsheet formulas and quotes per RFC 4180', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(7)).toBe('7');
    const record = seal(toRecordBody({ ...joinEvent, room: '=cmd|calc', decision: undefined }, privacy(), undefined), 1, GENESIS);
    const csv = formatCsv([record]);
    expect(csv.split('\r\n')[1]).toContain(",'=cmd|calc,");
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});

describe('erasable identities', () => {
  it('seals client address and user agent of a person\'s record under their key, and leaves neither in clear', () => {
    const key = Buffer.alloc(32, 7);
    const body = toRecordBody(joinEvent, privacy({ identity: 'erasable' }), undefined, { pseudonym: 'p'.repeat(64), seal: (field, value) => sealField(key, field, value) });
    expect(body.actor).toEqual({ pseudonym: 'p'.repeat(64) });
    expect(JSON.stringify(body)).not.toContain('Firefox');
    expect(JSON.stringify(body)).not.toContain('203.0.113');
    expect(openField(key, 'client.userAgent', body.client!.userAgent!)).toBe(joinEvent.client!.userAgent);
    expect(openField(key, 'client.ip', body.client!.ip!)).toBe('203.0.113.0/24');
    expect(openField(Buffer.alloc(32, 8), 'client.ip', body.client!.ip!)).toBeUndefined();
  });

  it('finds a data subject by exact sub and issuer or a pseudonym worked out for them, never by the input as pseudonym or e-mail', () => {
    const base = { v: 1, id: 'x', ts: '2026-01-01T00:00:00.000Z', seq: 1, instance: 'i', type: 'logout', outcome: 'success', prev: '', hash: '' } as const;
    const subject = { sub: 'bob', issuers: ['https://idp.example/'], pseudonyms: ['a'.repeat(64)] };
    expect(matchesFilters({ ...base, actor: { sub: 'bob', iss: 'https://idp.example/' } }, { subject })).toBe(true);
    expect(matchesFilters({ ...base, actor: { sub: 'bob', iss: 'https://other.example/' } }, { subject })).toBe(false);
    expect(matchesFilters({ ...base, actor: { sub: 'BOB', iss: 'https://idp.example/' } }, { subject })).toBe(false);
    expect(matchesFilters({ ...base, actor: { pseudonym: 'a'.repeat(64) } }, { subject })).toBe(true);
    expect(matchesFilters({ ...base, actor: { pseudonym: 'b'.repeat(64) } }, { subject: { ...subject, sub: 'b'.repeat(64) } })).toBe(false);
    expect(matchesFilters({ ...base, actor: { sub: 'carol', iss: 'https://idp.example/', email: 'bob' } }, { subject })).toBe(false);
  });
});
