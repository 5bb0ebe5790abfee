// Regenerates the reference pages that are rendered from code: docs/configuration.md, docs/errors.md, and
// the matrix section of docs/compliance.md (between its markers; the prose around it is written by hand).
import { readFileSync, writeFileSync } from 'node:fs';
import { MATRIX_END, MATRIX_START, matrixMarkdown } from '../src/compliance/matrix.js';
import { configurationMarkdown } from '../src/config/docs.js';
import { errorsMarkdown } from '../src/ui/error-docs.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());
writeFileSync(new URL('../docs/errors.md', import.meta.url), await errorsMarkdown());
const compliance = new URL('../docs/compliance.md', import.meta.url);
const text = readFileSync(compliance, 'utf8');
const start = text.indexOf(MATRIX_START);
const end = text.indexOf(MATRIX_END);
if (start < 0 || end < start) throw new Error(`docs/compliance.md lacks the ${MATRIX_START} … ${MATRIX_END} markers`);
writeFileSync(compliance, text.slice(0, start) + matrixMarkdown() + text.slice(end + MATRIX_END.length));
console.log('docs/configuration.md, docs/errors.md and the matrix of docs/compliance.md written');
