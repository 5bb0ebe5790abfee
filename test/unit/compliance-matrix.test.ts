// docs/compliance.md is evidence handed to auditors: every test it names must exist under that name, every
// setting must be a configuration key with the default shown, and the page must say what the report judges.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MATRIX_END, MATRIX_START, defaultText, matrixMarkdown, schemaField } from '../../src/compliance/matrix.js';
import { REQUIREMENTS } from '../../src/compliance/requirements.js';

const doc = readFileSync('docs/compliance.md', 'utf8');

interface Row { id: string; settings: string; proofs: string; servable: boolean }

/** The rows of the two tables between the markers, read as Markdown (cells split at unescaped `|`). */
function parseMatrix(text: string): Row[] {
  const section = text.slice(text.indexOf(MATRIX_START), text.indexOf(MATRIX_END));
  const rows: Row[] = [];
  let servable = true;
  for (const line of section.split('\n')) {
    if (line.startsWith('Requirements a gateway cannot serve')) servable = false;
    if (!line.startsWith('| ') || line.startsWith('| Requirement') || line.startsWith('| ---')) continue;
    const cells = line.slice(2, -2).split(/(?<!\\) \| /);
    rows.push(servable
      ? { id: cells[0]!, settings: cells[3]!, proofs: cells[4]!, servable }
      : { id: cells[0]!, settings: cells[3]!, proofs: '', servable });
  }
  return rows;
}

const rows = parseMatrix(doc);
const proofsOf = (row: Row) => [...row.proofs.matchAll(/`([^`]+\.test\.ts)`: "([^"]+)"/g)].map((m) => ({ file: m[1]!, name: m[2]! }));
const settingsOf = (row: Row) => [...row.settings.matchAll(/`([A-Za-z.]+)` \(`([^`]*)`\)/g)].map((m) => ({ key: m[1]!, shown: m[2]! }));

describe('docs/compliance.md', () => {
  it('has a matrix covering DSK, BSI APP.5.4 and OPS.1.1.5, ASVS V6, V7 and V16, and NIST AAL2 and AAL3', () => {
    const ids = rows.map((r) => r.id).join('\n');
    for (const wanted of [/DSK-OH 4\.2\.2/, /DSK-Checkliste/, /APP\.5\.4/, /OPS\.1\.1\.5/, /ORP\.4/, /ASVS 6\./, /ASVS 7\./, /ASVS 16\./, /AAL2/, /AAL3/, /GDPR Art\. 17/]) expect(ids).toMatch(wanted);
    expect(rows.filter((r) => !r.servable).length).toBeGreaterThan(3);
  });

  it('names for every servable row at least one test, each in an existing file under exactly that name', () => {
    const missing: string[] = [];
    for (const row of rows.filter((r) => r.servable)) {
      const proofs = proofsOf(row);
      if (proofs.length === 0) missing.push(`${row.id}: no test named`);
      for (const { file, name } of proofs) {
        if (!existsSync(file)) missing.push(`${row.id}: ${file} does not exist`);
        else if (!readFileSync(file, 'utf8').includes(`'${name.replace(/'/g, "\\'")}'`) && !readFileSync(file, 'utf8').includes(`"${name}"`)) missing.push(`${row.id}: ${file} has no test "${name}"`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names only keys of the configuration schema, each with its schema default', () => {
    const wrong: string[] = [];
    for (const row of rows) {
      for (const { key, shown } of settingsOf(row)) {
        if (!schemaField(key)) wrong.push(`${row.id}: ${key} is not a configuration key`);
        else if (defaultText(key) !== shown) wrong.push(`${row.id}: ${key} shown as ${shown}, default is ${defaultText(key)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(rows.flatMap(settingsOf).length).toBeGreaterThan(20);
  });

  it('is the matrix the report judges with (regenerate with npm run docs:config)', () => {
    const section = doc.slice(doc.indexOf(MATRIX_START), doc.indexOf(MATRIX_END) + MATRIX_END.length);
    expect(section).toBe(matrixMarkdown());
    expect(rows.map((r) => r.id)).toEqual([...REQUIREMENTS.filter((r) => r.servable), ...REQUIREMENTS.filter((r) => !r.servable)].map((r) => r.id));
  });

  it('the checks above fail on a test that does not exist and on a key the schema lacks', () => {
    const broken = matrixMarkdown()
      .replace('"refuses the same code again once its step is recorded, flagged as a replay"', '"accepts every code twice"')
      .replace('`session.idleTimeout` (`30m`)', '`session.idleTimeoutt` (`30m`)');
    const parsed = parseMatrix(broken);
    const totp = parsed.find((r) => r.id === 'ASVS 6.5.1, 6.5.2')!;
    const file = readFileSync('test/unit/mfa-totp.test.ts', 'utf8');
    expect(proofsOf(totp).some(({ name }) => !file.includes(name))).toBe(true);
    expect(parsed.flatMap(settingsOf).some(({ key }) => schemaField(key) === undefined)).toBe(true);
  });
});
