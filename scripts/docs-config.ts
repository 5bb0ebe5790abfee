// Regenerates the reference pages that are rendered from code: docs/configuration.md, docs/errors.md.
import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../src/config/docs.js';
import { errorsMarkdown } from '../src/ui/error-docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
writeFileSync(new URL('../docs/errors.md', import.meta.url), await errorsMarkdown());
console.log('docs/configuration.md and docs/errors.md written');
