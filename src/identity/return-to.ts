// returnTo and similar parameters: only same-origin relative paths survive (DESIGN invariant 7).
// Anything a browser might read as another origin (//host, /\host, encoded or control-character
// variants, schemes) is refused rather than repaired.

const MAX_RETURN_TO = 2048;
const RETURNABLE_OWN_PATHS = ['/_roomguard/account', '/_roomguard/mfa', '/_roomguard/notice', '/_roomguard/audit', '/_roomguard/rooms'];

function decodeRepeatedly(text: string): string | undefined {
  let current = text;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return current;
    current = next;
  }
  return undefined;
}

/** The path to return to, or undefined when the value is not a safe same-origin relative path. */
export function safeReturnTo(value: unknown, publicUrl: URL): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return undefined;
  if (!value.startsWith('/') || value.startsWith('//')) return undefined;
  // Browsers treat \ as / and drop tabs and newlines inside URLs; refuse them outright.
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f\s]/.test(value)) return undefined;
  const decoded = decodeRepeatedly(value);
  // eslint-disable-next-line no-control-regex
  if (decoded === undefined || decoded.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(decoded) || /^\/[a-z][a-z0-9+.-]*:/i.test(decoded)) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(value, publicUrl);
  } catch {
    return undefined;
  }
  if (resolved.origin !== publicUrl.origin) return undefined;
  // Dot segments resolve away (/.//evil → //evil): refuse them rather than return a protocol-relative path.
  if (resolved.pathname.startsWith('//') || /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(value.split(/[?#]/)[0]!)) return undefined;
  // roomguard's own paths only where a person may usefully land (never login, callback or logout, which
  // would loop or act); also in encoded spellings (/%5Froomguard/…), which the router decodes alike.
  const decodedPath = decodeRepeatedly(resolved.pathname) ?? resolved.pathname;
  for (const p of [resolved.pathname, decodedPath]) {
    if ((p === '/_roomguard' || p.startsWith('/_roomguard/')) && !RETURNABLE_OWN_PATHS.some((r) => p === r || p.startsWith(`${r}/`))) return undefined;
  }
  if (resolved.pathname !== decodedPath && decodedPath.startsWith('/_roomguard')) return undefined;
  return resolved.pathname + resolved.search + resolved.hash;
}
