// Renders docs/configuration.md from the schema, so the reference can never drift from the validator.
// `npm run docs:config` rewrites the file; test/unit/config-docs.test.ts fails when it is stale.
import { CONFIG_SCHEMA, DEPRECATED_KEYS, NON_CONFIG_VARIABLES, envNameFor, type Field, type ObjectField } from './schema.js';

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
    case 'address': return '`host:port`';
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

function deprecatedText(): string {
  if (DEPRECATED_KEYS.length === 0) return 'There are none in this version.';
  return `In this version: ${DEPRECATED_KEYS.map((d) => `\`${d.from}\` → \`${d.to}\` (since ${d.since}, removed in ${d.removal})`).join(', ')}.`;
}

export function configurationMarkdown(): string {
  return `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand. -->

roomguard reads one YAML file (\`roomguard serve --config roomguard.yaml\`). Every key can also be set
through an environment variable (shown below); the environment wins over the file. Lists are written
comma-separated in the environment. Durations are written like \`90s\`, \`15m\`, \`12h\`, \`1h30m\`.

Unknown keys are errors, with the closest key as a suggestion (or the full path of a key written at the
wrong level). So are unknown \`ROOMGUARD_*\` variables (in any letter case): a misspelt variable would
otherwise be ignored while you believe it in force. Exempt are variables the config names in an
\`env:NAME\` secret reference, and roomguard's own variables that are not keys (below).
\`roomguard config check --config FILE\` prints every problem at once, as \`file:line: field: message\`
(or \`$ROOMGUARD_…: field: message\` for environment values), and exits 1; \`serve\` refuses to start.

**Secrets** (\`secret reference\`) are written as \`env:NAME\` (read from the environment variable NAME),
\`file:/path\` (read from a file; one trailing newline is removed), or as the value itself. A value written
into the file is accepted with a warning (\`file:line: field: warning: …\`, from \`config check\` and in the
log of \`serve\`), because the secret then travels wherever the file does. Secrets never appear in logs.

**Deprecated keys** keep working, with a warning naming the key that replaces them, until the release that
removes them ([upgrading.md](upgrading.md#deprecated-keys)). ${deprecatedText()}

**Variables that are not keys**: ${Object.entries(NON_CONFIG_VARIABLES).map(([name, what]) => `\`${name}\` (${what})`).join(', ')}.

A complete example is [\`examples/roomguard.yaml\`](../examples/roomguard.yaml).

## Top level

${section(CONFIG_SCHEMA, [], 2)}`;
}
