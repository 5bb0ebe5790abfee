// Paths the gateway will not forward: anything an upstream (or a proxy behind it) might normalise into
// a different path than the one the policy judged — empty segments (nginx merges //), dot segments,
// encoded slashes and backslashes, NUL. Refusing is safer than guessing how the upstream normalises.

/** %-escapes of unreserved characters (letters, digits, - . _ ~): browsers never send them encoded. */
const ENCODED_UNRESERVED = /%(3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e)/gi;

/** The path with escaped unreserved characters decoded: another spelling of the same path, which an upstream would decode too. */
export function decodeUnreserved(rawPath: string): string {
  if (!rawPath.includes('%')) return rawPath;
  return rawPath.replace(ENCODED_UNRESERVED, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
}

export function isCleanPath(rawPath: string): boolean {
  if (!rawPath.startsWith('/')) return false;
  if (rawPath.length > 4096) return false;
  if (/%(2f|5c|00)/i.test(rawPath) || rawPath.includes('\\')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rawPath)) return false;
  // Without `//`, `/.` or `/%2e` there can be no empty or dot segment: most paths stop here.
  if (!rawPath.includes('//') && !rawPath.includes('/.') && !/\/%2e/i.test(rawPath)) return true;
  const segments = rawPath.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    const isLast = i === segments.length - 1;
    if (segment === '' && !isLast) return false;
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return false;
  }
  return true;
}
