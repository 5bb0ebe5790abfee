// The documentation stands alone and its links hold (issue 16): every relative link in README.md,
// CHANGELOG.md and docs/*.md names a file or directory of the repository (tracked, or new and not
// ignored), every #anchor names a heading (GitHub's slugs) or an explicit anchor of that page, and no
// page cites material outside the repository.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repository's files as a clone has them: tracked, plus new files that are not ignored. */
const FILES = new Set(execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean));
const DIRECTORIES = new Set([...FILES].flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
const PAGES = [...FILES].filter((f) => f === 'README.md' || f === 'CHANGELOG.md' || /^docs\/[^/]+\.md$/.test(f)).sort();

/** The text outside fenced code blocks and inline code, where a link is a link. */
export function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[^`\n]*?\1/g, '');
}

/** GitHub's anchor for a heading: lower case, letters, digits, spaces, `-` and `_` kept, spaces to `-`. */
export function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // [text](url) → text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*~]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every anchor a page offers: headings (with GitHub's -1, -2 … for repeats) and explicit `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const slug = slugOf(heading!);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

/** Link targets of a page: inline links and images, reference definitions, HTML href/src. */
export function linksOf(markdown: string): string[] {
  const prose = proseOf(markdown);
  const links = [
    ...[...prose.matchAll(/!?\[(?:[^\]\n]|\][^(\n])*?\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
    ...[...prose.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"/g)].map((m) => m[1]!),
  ];
  return links.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

interface Broken {
  page: string;
  link: string;
  why: string;
}

function brokenLinks(page: string): Broken[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const broken: Broken[] = [];
  for (const link of linksOf(text)) {
    const [pathPart = '', anchor] = link.split('#', 2) as [string, string | undefined];
    const target = pathPart === '' ? page : normalize(join(dirname(page), decodeURIComponent(pathPart))).replace(/\/$/, '');
    if (target.startsWith('..') || target.startsWith('/')) {
      broken.push({ page, link, why: 'points outside the repository' });
      continue;
    }
    if (!FILES.has(target) && !DIRECTORIES.has(target)) {
      broken.push({ page, link, why: `${target} does not exist in the repository` });
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(join(ROOT, target), 'utf8')).has(anchor)) {
      broken.push({ page, link, why: `${target} has no heading #${anchor}` });
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('reads the pages: README.md, CHANGELOG.md and every docs/*.md', () => {
    expect(PAGES).toContain('README.md');
    expect(PAGES).toContain('docs/admin-guide.md');
    expect(PAGES.length).toBeGreaterThan(10);
  });

  it.each(PAGES)('%s links only to files and headings that exist', (page) => {
    expect(brokenLinks(page).map((b) => `${b.page}: (${b.link}) ${b.why}`)).toEqual([]);
  });

  it.each(PAGES)('%s cites nothing outside the repository (no shared/ material)', (page) => {
    expect(readFileSync(join(ROOT, page), 'utf8')).not.toMatch(/shared\/reference|\.\.\/shared\b/);
  });
});

describe('the link checker itself', () => {
  it('finds a missing file, a missing heading and a link out of the repository, and ignores code and web links', () => {
    const page = [
      '# Title', '## Run it `now`', '## Run it `now`',
      '[ok](#run-it-now) [second](#run-it-now-1) [bad](#nowhere)',
      '[file](docs/admin-guide.md#1-install) [gone](docs/nope.md) [far](../shared/x.md)',
      '[web](https://example.org/x#y) `[code](missing.md)`', '```', '[fenced](missing.md)', '```',
      '[ref]: docs/also-missing.md',
    ].join('\n');
    expect(linksOf(page)).toEqual(['#run-it-now', '#run-it-now-1', '#nowhere', 'docs/admin-guide.md#1-install', 'docs/nope.md', '../shared/x.md', 'docs/also-missing.md']);
    expect([...anchorsOf(page)]).toEqual(['title', 'run-it-now', 'run-it-now-1']);
    expect(slugOf('6. What your backend receives')).toBe('6-what-your-backend-receives');
    expect(slugOf('`store.sentinel`')).toBe('storesentinel');
    expect(slugOf('Resource exhaustion: the shared store (issue 15, class 8)')).toBe('resource-exhaustion-the-shared-store-issue-15-class-8');
  });
});
