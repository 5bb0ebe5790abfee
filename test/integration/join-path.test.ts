// The path of one join through the code, measured rather than claimed (docs/architecture.md): V8's precise
// coverage counts which functions of src/ ran while the gateway handled one page load into an allowed room
// (proxy mode, generic backend; the person signed in, the room entered once before, so only the join's own
// work runs). The files found must be the ones docs/architecture.md lists for it; counted as the document
// counts its stops (each file of the gateway's own wiring, and each other folder once, however many of its
// files its one entry point uses), no more than 14.
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../security/harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARCHITECTURE = fileURLToPath(new URL('../../docs/architecture.md', import.meta.url));

let rig: Rig;
let inspector: Session;

beforeAll(async () => {
  rig = await startRig();
  inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
});

afterAll(async () => {
  await inspector?.post('Profiler.stopPreciseCoverage');
  inspector?.disconnect();
  await rig?.close();
});

/** The src/ files in which some function ran since the last call (taking coverage resets the counts). */
async function filesThatRan(): Promise<string[]> {
  const { result } = await inspector.post('Profiler.takePreciseCoverage');
  const files = new Set<string>();
  for (const script of result) {
    if (!script.url.includes(`${ROOT}src/`)) continue;
    // The module's own top-level function ran when it was loaded, long before: only functions called now count.
    if (script.functions.some((fn) => fn.functionName !== '' && fn.ranges.some((range) => range.count > 0))) {
      files.add(script.url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/\?.*$/, ''));
    }
  }
  return [...files].sort();
}

/** The files docs/architecture.md lists for the proxy-mode join (its table, one file per row). */
function documentedFiles(): string[] {
  const text = readFileSync(ARCHITECTURE, 'utf8');
  const table = text.slice(text.indexOf('<!-- join-path:proxy -->'), text.indexOf('<!-- /join-path:proxy -->'));
  return [...table.matchAll(/^\| \d+ \| `(src\/[^`]+)` \|/gm)].map((m) => m[1]!).sort();
}

describe('the path of one join (docs/architecture.md)', () => {
  it('runs through the files the architecture document lists, in no more than 14 stops', async () => {
    const { browser } = await loginAs(rig.origin, 'bob');
    const page = { accept: 'text/html', 'sec-fetch-dest': 'document' };
    // Once before, so that what is done once per process or per session (caches, discovery) is done.
    expect((await browser.request(`${rig.origin}/rooms/staff-weekly`, { headers: page })).status).toBe(200);
    await filesThatRan();
    expect((await browser.request(`${rig.origin}/rooms/staff-weekly`, { headers: page })).status).toBe(200);
    const ran = await filesThatRan();
    expect(ran).toEqual(documentedFiles());
    const stops = new Set(ran.map((file) => (file.startsWith('src/gateway/') ? file : file.split('/').slice(0, 2).join('/'))));
    expect(stops.size).toBeLessThanOrEqual(14);
  });
});
