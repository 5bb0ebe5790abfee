import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown } from '../../src/config/docs.js';
import { schemaLeaves, envNameFor } from '../../src/config/schema.js';

describe('docs/configuration.md', () => {
  const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

  it('is the rendering of the current schema (run `npm run docs:config` after changing the schema)', () => {
    expect(committed).toBe(configurationMarkdown());
  });

  it('documents every key with its environment variable', () => {
    for (const { path } of schemaLeaves()) {
      expect(committed).toContain(`\`${path.join('.')}\``);
      expect(committed).toContain(`\`${envNameFor(path)}\``);
    }
  });
});

describe('docs/errors.md', () => {
  it('is the rendering of the current error catalogue (run `npm run docs:config`)', async () => {
    const { errorsMarkdown } = await import('../../src/ui/error-docs.js');
    expect(readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')).toBe(await errorsMarkdown());
  });
});
