// A BigBlueButton API written from bbb-web's published API rules (docs/bbb.md) (independently of roomguard's
// signing code): checksums verified over the raw query with the checksum parameter cut out as bbb-web
// does, the hash chosen by the checksum's length, create idempotent with a createTime, join checked
// against it. It records every call that reaches it.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

const ALGORITHM_BY_LENGTH: Record<number, string> = { 40: 'sha1', 64: 'sha256', 96: 'sha384', 128: 'sha512' };

export interface BbbCall {
  call: string;
  query: string;
  params: URLSearchParams;
  valid: boolean;
}

export interface FakeBbb {
  url: string;
  calls: BbbCall[];
  meetings: Map<string, { createTime: string; record: string; name: string }>;
  joins: Array<{ meetingID: string; role: string; fullName: string; userID: string }>;
  close(): Promise<void>;
}

function checksumValid(call: string, rawQuery: string, secret: string): boolean {
  const checksum = /(?:^|&)checksum=([^&]*)/.exec(rawQuery)?.[1];
  if (!checksum) return false;
  const algorithm = ALGORITHM_BY_LENGTH[checksum.length];
  if (!algorithm) return false;
  const query = rawQuery.replace(`&checksum=${checksum}`, '').replace(`checksum=${checksum}&`, '').replace(`checksum=${checksum}`, '');
  return createHash(algorithm).update(call + query + secret).digest('hex') === checksum.toLowerCase();
}

const xml = (body: string) => `<response>${body}</response>`;

export async function startFakeBbb(secret: string): Promise<FakeBbb> {
  const calls: BbbCall[] = [];
  const meetings = new Map<string, { createTime: string; record: string; name: string }>();
  const joins: FakeBbb['joins'] = [];
  let clock = 1_700_000_000_000;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const at = url.indexOf('?');
    const path = at === -1 ? url : url.slice(0, at);
    const rawQuery = at === -1 ? '' : url.slice(at + 1);
    const params = new URLSearchParams(rawQuery);
    const match = /^\/bigbluebutton\/api\/([A-Za-z]+)$/.exec(path);
    if (!match) {
      calls.push({ call: path, query: rawQuery, params, valid: true });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>BBB client</title><p id="client">${path}</p>`);
      return;
    }
    const call = match[1]!;
    const valid = checksumValid(call, rawQuery, secret);
    calls.push({ call, query: rawQuery, params, valid });
    const reply = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(xml(body));
    };
    if (!valid) return reply('<returncode>FAILED</returncode><messageKey>checksumError</messageKey>');
    const meetingID = params.get('meetingID') ?? '';
    if (call === 'create') {
      if (meetingID.length < 2 || meetingID.length > 256 || meetingID.includes(',')) return reply('<returncode>FAILED</returncode><messageKey>invalidMeetingId</messageKey>');
      const existing = meetings.get(meetingID);
      const meeting = existing ?? { createTime: String(clock++), record: params.get('record') ?? 'false', name: params.get('name') ?? '' };
      meetings.set(meetingID, meeting);
      return reply(`<returncode>SUCCESS</returncode><meetingID>${meetingID}</meetingID><createTime>${meeting.createTime}</createTime>`);
    }
    if (call === 'join') {
      const meeting = meetings.get(meetingID);
      if (!meeting) return reply('<returncode>FAILED</returncode><messageKey>invalidMeetingIdentifier</messageKey>');
      if (params.has('createTime') && params.get('createTime') !== meeting.createTime) return reply('<returncode>FAILED</returncode><messageKey>mismatchCreateTimeParam</messageKey>');
      const role = (params.get('role') ?? '').toUpperCase();
      if (role !== 'MODERATOR' && role !== 'VIEWER') return reply('<returncode>FAILED</returncode><messageKey>invalidRole</messageKey>');
      joins.push({ meetingID, role, fullName: params.get('fullName') ?? '', userID: params.get('userID') ?? '' });
      res.writeHead(302, { location: `/html5client/join?sessionToken=t${joins.length}` });
      return res.end();
    }
    if (call === 'end') {
      // bbb-web ends the meeting for everyone in it; an unknown meeting is notFound.
      if (!meetings.delete(meetingID)) return reply('<returncode>FAILED</returncode><messageKey>notFound</messageKey>');
      return reply('<returncode>SUCCESS</returncode><messageKey>sentEndMeetingRequest</messageKey>');
    }
    return reply('<returncode>SUCCESS</returncode>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    meetings,
    joins,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
