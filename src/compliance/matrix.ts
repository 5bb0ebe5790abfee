// The matrix of docs/compliance.md, written from REQUIREMENTS and the config schema's defaults, so the
// document and the report cannot drift apart (test/unit/compliance-matrix.test.ts compares and checks it).
import { CONFIG_SCHEMA, type Field } from '../config/schema.js';
import { REQUIREMENTS, type Requirement } from './requirements.js';

export const MATRIX_START = '<!-- compliance-matrix -->';
export const MATRIX_END = '<!-- /compliance-matrix -->';

/** The schema field at a dotted path, or undefined when there is none. */
export function schemaField(path: string): Exclude<Field, { kind: 'object' }> | undefined {
  let field: Field = CONFIG_SCHEMA;
  for (const part of path.split('.')) {
    if (field.kind !== 'object' || !Object.hasOwn(field.fields, part)) return undefined;
    field = field.fields[part]!;
  }
  return field.kind === 'object' ? undefined : field;
}

/** How the matrix shows a key's default: `30m`, `90`, `[]`, `unset`, `required`. */
export function defaultText(path: string): string {
  const field = schemaField(path);
  if (!field) throw new Error(`${path} is not a configuration key`);
  if ('default' in field && field.default !== undefined) return Array.isArray(field.default) ? `[${field.default.join(', ')}]` : String(field.default);
  return 'required' in field && field.required ? 'required' : 'unset';
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function settings(r: Requirement): string {
  return r.keys.map((key) => `\`${key}\` (\`${defaultText(key)}\`)`).join('<br>') || '—';
}

function proofs(r: Requirement): string {
  return r.tests.map((t) => `\`${t.file}\`: "${t.name}"`).join('<br>') || '—';
}

export function matrixMarkdown(): string {
  const servable = REQUIREMENTS.filter((r) => r.servable);
  const not = REQUIREMENTS.filter((r) => !r.servable);
  return [
    MATRIX_START,
    '| Requirement | What it asks | What roomguard does | Settings (default) | Proof: test file and name | Operator\'s duty |',
    '| --- | --- | --- | --- | --- | --- |',
    ...servable.map((r) => `| ${cell(r.id)} | ${cell(r.asks.en)} | ${cell(r.feature.en)} | ${settings(r)} | ${cell(proofs(r))} | ${cell(r.duty.en) || '—'} |`),
    '',
    'Requirements a gateway cannot serve:',
    '',
    '| Requirement | What it asks | Why roomguard cannot serve it | Settings (default) | Operator\'s duty |',
    '| --- | --- | --- | --- | --- |',
    ...not.map((r) => `| ${cell(r.id)} | ${cell(r.asks.en)} | ${cell(r.feature.en)} | ${settings(r)} | ${cell(r.duty.en)} |`),
    MATRIX_END,
  ].join('\n');
}
