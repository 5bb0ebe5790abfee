// Request ids come from a pooled CSPRNG buffer: the same format as before (16 hex), never repeated,
// also across refills of the pool, and not shared between two sources.
import { describe, expect, it } from 'vitest';
import { requestIdSource } from '../../src/gateway/request-id.js';

describe('request ids', () => {
  it('are 16 hex characters and distinct across several refills of the pool', () => {
    const next = requestIdSource();
    const ids = Array.from({ length: 5_000 }, () => next());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('differ between two sources (each draws its own randomness)', () => {
    const a = requestIdSource();
    const b = requestIdSource();
    const first = Array.from({ length: 600 }, () => a());
    const second = new Set(Array.from({ length: 600 }, () => b()));
    expect(first.some((id) => second.has(id))).toBe(false);
  });
});
