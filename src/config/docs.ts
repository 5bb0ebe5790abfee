// Renders docs/configuration.md from the schema, so the reference can never drift from the validator.
// `npm run docs:config` rewrites the file; test/unit/config-docs.test.ts fails when it is stale.
import { CONFIG_SCHEMA, envNameFor, type Field, type ObjectField } from './schema.js';

function defaultText(field: Exclude<Field, ObjectField>): string {
  if (field.kind === 'secret') return field.required ? '*(required)*' : '*(none)*';
  if ('required' in field && field.required) return '*(required)*';
  if (!('default' in field) || field.default === undefined) return '*(none)*';
  if (Array.isArray(field.default)) return field.default.length === 0 ? '`[]`' : `\`[${field.default.join(', ')}]\``;
  return `\`${String(field.default)}\``;
}

function typeText(field: Exclude<Field, ObjectField>): string {
  switch (field.kind) {
    case 'enum': return `one of ${field.values.map((v) => `\`${v}\``).join(', ')}`;
    case 'duration': return `duration${field.min || field.max ? ` (${field.min ?? '0s'} – ${field.max ?? '∞'})` : ''}`;
    case 'integer': return `integer (${field.min} – ${field.max})`;
    case 'url': return `URL (${field.protocols.map((p) => p.replace(':', '')).join(', ')})`;
    case 'list': return 'list of strings';
    case 'secret': return 'secret reference';
    default: return field.kind;
  }
}

function section(field: ObjectField, path: string[], depth: number): string {
  let out = '';
  const leaves = Object.entries(field.fields).filter(([, f]) => f.kind !== 'object');
  if (leaves.length > 0) {
    out += '| key | type | default | environment | meaning |\n| --- | --- | --- | --- | --- |\n';
    for (const [key, f] of leaves) {
      const leaf = f as Exclude<Field, ObjectField>;
      const doc = leaf.doc + (leaf.example ? ` Example: \`${leaf.example}\`.` : '');
      out += `| \`${[...path, key].join('.')}\` | ${typeText(leaf)} | ${defaultText(leaf)} | \`${envNameFor([...path, key])}\` | ${doc.replace(/\|/g, '\\|')} |\n`;
    }
    out += '\n';
  }
  for (const [key, f] of Object.entries(field.fields)) {
    if (f.kind !== 'object') continue;
    out += `${'#'.repeat(Math.min(depth + 1, 6))} \`${[...path, key].join('.')}\`\n\n${f.doc}\n\n`;
    out += section(f, [...path, key], depth + 1);
  }
  return out;
}

export function configurationMarkdown(): string {
  return `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand. -->

roomguard reads one YAML file (\`roomguard serve --config roomguard.yaml\`). Every key can also be set
through an environment variable (shown below); the environment wins over the file. Lists are written
comma-separated in the environment. Durations are written like \`90s\`, \`15m\`, \`12h\`, \`1h30m\`.

Unknown keys are errors. \`roomguard config check --config FILE\` prints every problem at once, as
\`file:line: field: message\` (or \`$ROOMGUARD_…: field: message\` for environment values), and exits 1.

**Secrets** (\`secret reference\`) are written as \`env:NAME\` (read from the environment variable NAME),
\`file:/path\` (read from a file; one trailing newline is removed), or as the value itself (discouraged).
They never appear in logs.

A complete example is [\`examples/roomguard.yaml\`](../examples/roomguard.yaml).

## Top level

${section(CONFIG_SCHEMA, [], 2)}`;
}
