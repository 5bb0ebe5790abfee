// BBB API checksums against the vector published in the BBB API documentation (the API's checksum rule;
// see docs/bbb.md) and the same input under the other algorithms, plus signing the exact bytes sent.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bbbChecksum, signedQuery } from '../../src/backends/bbb-api.js';

const QUERY = 'name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444';
const SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';

describe('BBB checksum', () => {
  it.each([
    ['sha1', '1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17'],
    ['sha256', 'da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e'],
    ['sha384', '891ac633df39d0a1b4f8d597f3e190833216c4b29c4fb51ea3ca72757eeb958d6e7b49a845cf29f5c6019c7d29d029d1'],
    ['sha512', 'de73ad61d11a5c801b68d4bd6ec5248546085cefb0b25c85f3c46249ea93a3a4b120f92c0a8a58d7512cb77821884951a3b01245f3435dbbef49fff3cc3988b4'],
  ] as const)('matches the documented create example under %s', (algorithm, expected) => {
    expect(bbbChecksum('create', QUERY, SECRET, algorithm)).toBe(expected);
  });

  it('signs exactly the bytes it sends, with encoded characters', () => {
    const query = signedQuery('join', [['fullName', 'Jörg Müller & Co'], ['meetingID', 'rg-board'], ['role', 'MODERATOR']], SECRET, 'sha256');
    const [sent, checksum] = query.split('&checksum=') as [string, string];
    expect(sent).toBe('fullName=J%C3%B6rg%20M%C3%BCller%20%26%20Co&meetingID=rg-board&role=MODERATOR');
    expect(checksum).toBe(createHash('sha256').update(`join${sent}${SECRET}`).digest('hex'));
    // A different encoding of the same values is a different checksum: never re-encode after signing.
    expect(bbbChecksum('join', sent.replace(/%20/g, '+'), SECRET, 'sha256')).not.toBe(checksum);
  });
});

describe('signedQuery with a lone surrogate (attack 17, finding 4)', () => {
  it('cannot throw: the surrogate is sent as U+FFFD', () => {
    const query = signedQuery('join', [['fullName', 'Ann\ud83d']], 'secret', 'sha256');
    expect(query).toMatch(/^fullName=Ann%EF%BF%BD&checksum=/);
  });
});
