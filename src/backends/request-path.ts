// The one reading of a request path that every room lookup starts from, in proxy and in forward-auth
// mode (DESIGN invariant 2: the gateway's reading of a path is every upstream's reading). A path passes
// only when every server that might stand behind roomguard — a servlet container (Tomcat, Jetty, bbb-web),
// nginx, Node — reads it as the same sequence of segments; anything one of them would decode, merge,
// drop or resolve differently is refused, or, for a harmless respelling, redirected to the plain form.
// Pure; no I/O. The decisions per character class are listed in docs/security.md.

/** The longest path accepted (longer ones are no request a browser makes). */
export const MAX_PATH_LENGTH = 4096;

/** A path every upstream reads as these segments. */
export interface RequestPath {
  /** Exactly as the client sent it, without the query: what the upstream receives. */
  readonly raw: string;
  /** The raw segments after the leading `/` (the last is '' after a trailing slash; `/` is ['']). */
  readonly segments: readonly string[];
  /** The path with every escape decoded (valid UTF-8 guaranteed): what a decoding upstream routes by. */
  readonly decoded: string;
}

/** Why a path is refused; logged with RG_REQUEST_BAD_PATH. */
export type PathRefusal =
  | 'not-a-path'
  | 'too-long'
  | 'raw-character'
  | 'malformed-escape'
  | 'path-parameter'
  | 'encoded-separator'
  | 'encoded-control'
  | 'double-encoding'
  | 'invalid-utf8'
  | 'empty-segment'
  | 'dot-segment';

export type PathReading =
  | { kind: 'path'; path: RequestPath }
  /** Another spelling of `path` (escaped letters, digits or `-._~`, which every upstream decodes): judge `path`, send the client there. */
  | { kind: 'respelled'; path: RequestPath }
  | { kind: 'refused'; why: PathRefusal };

/**
 * Characters a path may carry unescaped: RFC 3986's unreserved characters, sub-delimiters, `:`, `@`, the
 * `%` of an escape and the separator `/`. Not `;` (path parameters, below), not `\`, controls, space,
 * non-ASCII bytes or `"#<>[]^`{|}`: browsers escape them, Tomcat answers 400, others pass them on
 * differently (a raw `#` ends the path for Tomcat, a `\` is a separator for some).
 */
const RAW_ALLOWED = /^[A-Za-z0-9\-._~!$&'()*+,=:@%/]*$/;
/** A `%` not followed by two hex digits: Tomcat and nginx answer 400, Node and Jitsi keep it literally. */
const MALFORMED_ESCAPE = /%(?![0-9a-f]{2})/i;
/**
 * `;` starts a path parameter that servlet containers (Tomcat, Jetty, Spring, bbb-web) cut from each
 * segment before routing (`/rooms;x/board` is `/rooms/board` to them, and `/a/..;/b` is `/b`), and an
 * escaped `%3b` becomes a `;` in the name they route by. No backend roomguard supports needs one.
 */
const PATH_PARAMETER = /;|%3b/i;
/** An escaped `/` or `\`: nginx decodes them into separators, Tomcat refuses them, Node keeps them. */
const ENCODED_SEPARATOR = /%(2f|5c)/i;
/** An escaped control character (NUL, CR, LF, DEL …). */
const ENCODED_CONTROL = /%([01][0-9a-f]|7f)/i;
/** `%25` followed by hex: an escape of an escape, which a server that decodes once more reads as another path. */
const DOUBLE_ENCODING = /%25[0-9a-f]{2}/i;
/** %-escapes of unreserved characters (letters, digits, `-._~`): every upstream decodes them. */
const ESCAPED_UNRESERVED = /%(3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e)/gi;
const ESCAPED_DOT = /%2e/gi;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a raw request path (no query) as every upstream would, or says why not. */
export function readRequestPath(raw: string): PathReading {
  if (!raw.startsWith('/')) return refused('not-a-path');
  if (raw.length > MAX_PATH_LENGTH) return refused('too-long');
  if (PATH_PARAMETER.test(raw)) return refused('path-parameter');
  if (!RAW_ALLOWED.test(raw)) return refused('raw-character');
  const escaped = raw.includes('%');
  if (escaped) {
    if (MALFORMED_ESCAPE.test(raw)) return refused('malformed-escape');
    if (ENCODED_SEPARATOR.test(raw)) return refused('encoded-separator');
    if (ENCODED_CONTROL.test(raw)) return refused('encoded-control');
    if (DOUBLE_ENCODING.test(raw)) return refused('double-encoding');
  }
  const segments = raw.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    // Only a trailing slash may leave a segment empty: nginx and Tomcat merge `//`, others keep it.
    if (segment === '' && i !== segments.length - 1) return refused('empty-segment');
    const dots = escaped ? segment.replace(ESCAPED_DOT, '.') : segment;
    if (dots === '.' || dots === '..') return refused('dot-segment');
  }
  if (!escaped) return { kind: 'path', path: { raw, segments, decoded: raw } };
  const decoded = decodeUtf8(raw);
  if (decoded === undefined) return refused('invalid-utf8');
  const plain = raw.replace(ESCAPED_UNRESERVED, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  if (plain === raw) return { kind: 'path', path: { raw, segments, decoded } };
  // `%25%34%31` respells to `%2541`: the plain form is judged by the same rules before anyone is sent there.
  const again = readRequestPath(plain);
  return again.kind === 'path' ? { kind: 'respelled', path: again.path } : again;
}

function refused(why: PathRefusal): PathReading {
  return { kind: 'refused', why };
}

/** The path with every escape decoded, or undefined when the escaped bytes are not valid UTF-8 (overlong forms, stray continuation bytes, surrogates). */
function decodeUtf8(raw: string): string | undefined {
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) === 0x25) {
      bytes[n++] = parseInt(raw.slice(i + 1, i + 3), 16);
      i += 2;
    } else bytes[n++] = raw.charCodeAt(i);
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}
