// Paths the gateway will not forward: anything an upstream (or a proxy behind it) might normalise into
// a different path than the one the policy judged — empty segments (nginx merges //), dot segments,
// encoded slashes and backslashes, NUL. Refusing is safer than guessing how the upstream normalises.

export function isCleanPath(rawPath: string): boolean {
  if (!rawPath.startsWith('/')) return false;
  if (rawPath.length > 4096) return false;
  if (/%(2f|5c|00)/i.test(rawPath) || rawPath.includes('\\')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rawPath)) return false;
  const segments = rawPath.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    const isLast = i === segments.length - 1;
    if (segment === '' && !isLast) return false;
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return false;
  }
  return true;
}
