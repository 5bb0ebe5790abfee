// Headers on every page roomguard renders itself: a strict CSP (no scripts, own stylesheet only),
// no framing, no referrer, no caching, HSTS on https (DESIGN invariant 9).

export function securityHeaders(options: { https: boolean; formActions: string[]; nonce?: string }): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': [
      "default-src 'none'",
      // Only scripts roomguard itself tagged with this response's nonce run (WebAuthn pages).
      options.nonce ? `script-src 'nonce-${options.nonce}'` : "script-src 'none'",
      "connect-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      // Chrome checks form-action on the redirect after a form post, so logout may continue to the IdP.
      `form-action 'self' ${options.formActions.join(' ')}`.trim(),
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer Chrome sends "Origin: null" on our own form posts.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (options.https) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}
