// The audit folder writes, reads and verifies the log; it renders nothing (the reviewer page is ui/'s)
// and knows nothing of the gateway: the sink and the event type are its own, the gateway imports them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join('src', 'audit');
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));

describe('audit folder', () => {
  it('imports nothing from ui/ or gateway/', () => {
    const imports = sources.flatMap(({ file, text }) => [...text.matchAll(/from '(\.\.\/(?:ui|gateway)\/[^']*)'/g)].map((m) => `${file}: ${m[1]}`));
    expect(imports).toEqual([]);
  });

  it('renders no HTML', () => {
    expect(sources.filter(({ text }) => /<!doctype|<html|<body|html`/i.test(text)).map(({ file }) => file)).toEqual([]);
  });
});
