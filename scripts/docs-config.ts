// Regenerates docs/configuration.md from the config schema.
import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../src/config/docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
console.log('docs/configuration.md written');
