// Policy files (issue 2, "Room policies"; DESIGN invariant 10): a valid file gives a typed Policy, a
// broken one gives every problem at once, each with file, 1-based line and field path.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { formatProblem, type Problem } from '../../src/config/yaml-source.js';

const FILE = 'policies/board.yaml';
const yaml = (...lines: string[]) => lines.join('\n') + '\n';

function parse(text: string) {
  return parsePolicyText(FILE, text);
}

function problemsOf(text: string): Problem[] {
  const result = parse(text);
  expect(result.policy, 'a broken policy must not produce a Policy').toBeUndefined();
  expect(result.problems.length).toBeGreaterThan(0);
  for (const p of result.problems) expect(p.file).toBe(FILE);
  return result.problems;
}

function expectProblem(problems: Problem[], where: { line: number; field: string; message?: RegExp }) {
  const found = problems.find((p) => p.line === where.line && p.field === where.field && (!where.message || where.message.test(p.message)));
  expect(found, `expected a problem at line ${where.line}, field "${where.field}" among:\n${problems.map(formatProblem).join('\n')}`).toBeDefined();
}

const HOURS = 3_600_000;
const MINUTES = 60_000;

describe('parsePolicyText: valid policies', () => {
  const boardText = yaml(
    'rooms: [Board, "board-*"]', //          1
    'risk: high', //                         2
    'allow:', //                             3
    '  - groups: [board]', //                4
    '  - emails: [Auditor@Example.org]', //  5
    '  - domains: [Example.org]', //         6
    'deny:', //                              7
    '  - groups: [contractors]', //          8
    'moderators:', //                        9
    '  - groups: [board-chair]', //          10
    'notice: { de: "Hinweis", en: "Notice" }', // 11
  );

  it('gives typed fields for the example board policy from the spec', () => {
    const { policy, problems } = parse(boardText);
    expect(problems).toEqual([]);
    expect(policy).toBeDefined();
    expect(policy!.file).toBe(FILE);
    expect(policy!.rooms).toEqual(['board', 'board-*']);
    expect(policy!.roomLines).toEqual([1, 1]);
    expect(policy!.risk).toBe('high');
    expect(policy!.allow).toEqual([
      { groups: ['board'], line: 4 },
      { emails: ['auditor@example.org'], line: 5 },
      { domains: ['example.org'], line: 6 },
    ]);
    expect(policy!.deny).toEqual([{ groups: ['contractors'], line: 8 }]);
    expect(policy!.moderators).toEqual([{ groups: ['board-chair'], line: 10 }]);
    expect(policy!.notice).toEqual({ de: 'Hinweis', en: 'Notice' });
  });

  it('records the sha256 of the file text, so decisions can name the exact policy version', () => {
    const { policy } = parse(boardText);
    expect(policy!.sha256).toBe(createHash('sha256').update(boardText).digest('hex'));
  });

  it('gives high-risk rooms the MFA defaults: required, webauthn or totp, maxAge 12h, 15 min idle timeout', () => {
    const { policy } = parse(boardText);
    expect(policy!.mfa.required).toBe(true);
    expect(policy!.mfa.methods).toEqual(['webauthn', 'totp']);
    expect(policy!.mfa.maxAge).toBe(12 * HOURS);
    expect(policy!.mfa.maxAge).toBe(43_200_000);
    expect(policy!.sessionIdleTimeout).toBe(15 * MINUTES);
  });

  it('defaults risk to normal, without a second factor and without a stricter idle timeout', () => {
    const { policy, problems } = parse(yaml('rooms: [town-hall]', 'allow:', '  - anyone: true'));
    expect(problems).toEqual([]);
    expect(policy!.risk).toBe('normal');
    expect(policy!.mfa.required).toBe(false);
    expect(policy!.sessionIdleTimeout).toBeUndefined();
    expect(policy!.allow).toEqual([{ anyone: true, line: 3 }]);
    expect(policy!.deny).toEqual([]);
    expect(policy!.moderators).toEqual([]);
  });

  it('takes explicit mfa settings (methods, maxAge 15m) over the defaults', () => {
    const { policy, problems } = parse(yaml('rooms: [board]', 'risk: high', 'allow:', '  - groups: [board]', 'mfa: { required: true, methods: [webauthn], maxAge: 15m }'));
    expect(problems).toEqual([]);
    expect(policy!.mfa.methods).toEqual(['webauthn']);
    expect(policy!.mfa.maxAge).toBe(15 * MINUTES);
  });

  it('lets a normal-risk room require a second factor explicitly', () => {
    const { policy } = parse(yaml('rooms: [hr]', 'allow:', '  - groups: [hr]', 'mfa: { required: true }'));
    expect(policy!.risk).toBe('normal');
    expect(policy!.mfa.required).toBe(true);
  });

  it('allows the catch-all pattern "*" on purpose', () => {
    const { policy, problems } = parse(yaml('rooms: ["*"]', 'allow:', '  - anyone: true'));
    expect(problems).toEqual([]);
    expect(policy!.rooms).toEqual(['*']);
  });

  it('reports the line of every room in a block list', () => {
    const { policy } = parse(yaml('rooms:', '  - board', '  - "staff-*"', 'allow:', '  - anyone: true'));
    expect(policy!.rooms).toEqual(['board', 'staff-*']);
    expect(policy!.roomLines).toEqual([2, 3]);
  });
});

describe('parsePolicyText: problems', () => {
  it('reports all three mistakes of a file with three mistakes, each at its own line', () => {
    const problems = problemsOf(yaml(
      'rooms: [board]', //          1
      'risk: extreme', //           2
      'allow:', //                  3
      '  - emails: [nobody]', //    4
      'colour: blue', //            5
    ));
    expect(problems).toHaveLength(3);
    expectProblem(problems, { line: 2, field: 'risk' });
    expectProblem(problems, { line: 4, field: 'allow[0].emails[0]' });
    expectProblem(problems, { line: 5, field: 'colour' });
  });

  it('refuses an unknown top-level field (a typo must not silently drop a rule)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'alow:', '  - groups: [x]'));
    expectProblem(problems, { line: 4, field: 'alow', message: /unknown/ });
  });

  it('requires rooms', () => {
    const problems = problemsOf(yaml('allow:', '  - anyone: true'));
    expectProblem(problems, { line: 1, field: 'rooms', message: /required/ });
  });

  it('refuses an empty rooms list', () => {
    const problems = problemsOf(yaml('rooms: []', 'allow:', '  - anyone: true'));
    expectProblem(problems, { line: 1, field: 'rooms' });
  });

  it('requires allow (deny by default needs an explicit allow list)', () => {
    const problems = problemsOf(yaml('rooms: [board]'));
    expectProblem(problems, { line: 1, field: 'allow', message: /required/ });
  });

  it('refuses an empty allow list', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow: []'));
    expectProblem(problems, { line: 2, field: 'allow' });
  });

  it('refuses allow written as a mapping instead of a list', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  groups: [board]'));
    expectProblem(problems, { line: 3, field: 'allow' });
  });

  it('refuses a matcher entry with an unknown key (group instead of groups)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - group: [board]'));
    expectProblem(problems, { line: 3, field: 'allow[0].group', message: /unknown/ });
  });

  it('refuses an empty matcher entry', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - {}'));
    expectProblem(problems, { line: 3, field: 'allow[0]' });
  });

  it('refuses an unknown key inside a deny entry too', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'deny:', '  - mail: [x@example.org]'));
    expectProblem(problems, { line: 5, field: 'deny[0].mail' });
  });

  it('refuses anyone: false (it would read as a rule but mean nothing)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: false'));
    expectProblem(problems, { line: 3, field: 'allow[0].anyone' });
  });

  it('refuses anyone: "true" written as text (only the boolean true is accepted)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: "true"'));
    expectProblem(problems, { line: 3, field: 'allow[0].anyone' });
  });

  it('refuses anyone: true combined with groups in the same entry', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', '    groups: [board]'));
    expectProblem(problems, { line: 3, field: 'allow[0]', message: /anyone/ });
  });

  it('refuses an e-mail entry that is not an address', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - emails: [auditor@example.org, auditor.example.org]'));
    expectProblem(problems, { line: 3, field: 'allow[0].emails[1]' });
    expect(problems.some((p) => p.field === 'allow[0].emails[0]')).toBe(false);
  });

  it('refuses a domain written with @', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - domains: ["@example.org"]'));
    expectProblem(problems, { line: 3, field: 'allow[0].domains[0]', message: /domain/ });
  });

  it('refuses a domain without a dot and one with spaces', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - domains: [localhost]', '  - domains: ["exa mple.org"]'));
    expectProblem(problems, { line: 3, field: 'allow[0].domains[0]' });
    expectProblem(problems, { line: 4, field: 'allow[1].domains[0]' });
  });

  it('refuses an empty groups list in an entry', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - groups: []'));
    expectProblem(problems, { line: 3, field: 'allow[0].groups' });
  });

  it('refuses an unknown risk level', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'risk: extreme', 'allow:', '  - anyone: true'));
    expectProblem(problems, { line: 2, field: 'risk' });
  });

  it('refuses an unknown mfa method', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa:', '  required: true', '  methods: [webauthn, sms]'));
    expectProblem(problems, { line: 6, field: 'mfa.methods[1]', message: /sms/ });
  });

  it('refuses an mfa maxAge that is not a duration', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa:', '  required: true', '  maxAge: soon'));
    expectProblem(problems, { line: 6, field: 'mfa.maxAge' });
  });

  it('refuses an mfa maxAge given as a bare number (unit missing)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa: { required: true, maxAge: 900 }'));
    expectProblem(problems, { line: 4, field: 'mfa.maxAge' });
  });

  it('refuses an mfa maxAge outside 1m..24h', () => {
    expectProblem(problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa: { required: true, maxAge: 30s }')), { line: 4, field: 'mfa.maxAge' });
    expectProblem(problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa: { required: true, maxAge: 25h }')), { line: 4, field: 'mfa.maxAge' });
  });

  it('refuses an unknown key inside mfa', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'mfa:', '  required: true', '  maxage: 15m'));
    expectProblem(problems, { line: 6, field: 'mfa.maxage' });
  });

  it('refuses risk: high with mfa.required: false, pointing at the required line', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'risk: high', 'allow:', '  - groups: [board]', 'mfa:', '  required: false'));
    expectProblem(problems, { line: 6, field: 'mfa.required' });
  });

  it('accepts mfa.required: false for a normal-risk room (the deny side of the high-risk rule)', () => {
    const { policy, problems } = parse(yaml('rooms: [board]', 'risk: normal', 'allow:', '  - groups: [board]', 'mfa:', '  required: false'));
    expect(problems).toEqual([]);
    expect(policy!.mfa.required).toBe(false);
  });

  it.each([
    ['_roomguard'],
    ['healthz'],
    ['readyz'],
    ['_Roomguard'],
    ['HEALTHZ'],
    ['health*'],
    ['*z'],
    ['ready?'],
    ['_room*'],
  ])('refuses the room pattern %s because it names or shadows a reserved gateway path', (pattern) => {
    const problems = problemsOf(yaml(`rooms: [board, "${pattern}"]`, 'allow:', '  - anyone: true'));
    expectProblem(problems, { line: 1, field: 'rooms[1]' });
  });

  it('refuses a room pattern with more than one slash, a leading or trailing slash, or a backslash', () => {
    for (const bad of ['a/b/c', '/a', 'a/', 'a\\\\b']) {
      const problems = problemsOf(yaml(`rooms: ["${bad}"]`, 'allow:', '  - anyone: true'));
      expectProblem(problems, { line: 1, field: 'rooms[0]' });
    }
  });

  it('accepts one slash as the Jitsi tenant separator and canonicalises both sides (Sales/Weekly → sales/weekly)', () => {
    const policy = parsePolicyText('t.yaml', yaml('rooms: ["Sales/Weekly", "sales/*"]', 'allow:', '  - anyone: true')).policy!;
    expect(policy.rooms).toEqual(['sales/weekly', 'sales/*']);
  });

  it('refuses the same room listed twice, also when only the spelling differs (board and Board)', () => {
    const problems = problemsOf(yaml('rooms:', '  - board', '  - Board', 'allow:', '  - anyone: true'));
    expectProblem(problems, { line: 3, field: 'rooms[1]', message: /twice/ });
  });

  it('reports a YAML syntax error with its line, without throwing', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - groups: [board]', 'title: a: b', 'risk: high'));
    expect(problems[0]!.line).toBe(4);
    expect(problems[0]!.message).toMatch(/YAML/);
  });

  it('reports an unclosed flow list near where it opens (line 3 or the next line, where the parser notices)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - groups: [board', 'risk: high'));
    expect(problems[0]!.line).toBeGreaterThanOrEqual(3);
    expect(problems[0]!.line).toBeLessThanOrEqual(4);
  });

  it('reports an unterminated quote as a YAML problem instead of throwing', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - groups: [board]', 'title: "unterminated'));
    expect(problems[0]!.message).toMatch(/YAML/);
  });

  it('refuses a duplicate key, pointing at the second occurrence', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: true', 'rooms: [other]'));
    expect(problems.some((p) => p.line === 4)).toBe(true);
  });

  it('refuses a duplicate key inside a matcher entry (two groups lists)', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - groups: [board]', '    groups: [staff]'));
    expect(problems.some((p) => p.line === 4)).toBe(true);
  });

  it('refuses a "billion laughs" alias bomb with a problem, quickly and without crashing', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1]!;
      levels.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = yaml(...levels, 'rooms: [board]', 'allow:', '  - anyone: true');
    const started = Date.now();
    let result: ReturnType<typeof parse> | undefined;
    expect(() => {
      result = parse(text);
    }).not.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result!.policy).toBeUndefined();
    expect(result!.problems.length).toBeGreaterThan(0);
    expect(result!.problems[0]!.file).toBe(FILE);
  });

  it('refuses a file whose root is a list', () => {
    const problems = problemsOf(yaml('- rooms: [board]', '- allow: []'));
    expectProblem(problems, { line: 1, field: '' });
  });

  it('refuses a file whose root is a scalar', () => {
    const problems = problemsOf(yaml('just some text'));
    expect(problems[0]!.line).toBe(1);
  });

  it('refuses an empty file', () => {
    const problems = problemsOf('');
    expect(problems).toHaveLength(1);
  });

  it('formats problems as file:line: field: message', () => {
    const problems = problemsOf(yaml('rooms: [board]', 'allow:', '  - anyone: false'));
    expect(formatProblem(problems[0]!)).toMatch(/^policies\/board\.yaml:3: allow\[0\]\.anyone: .+/);
  });
});
