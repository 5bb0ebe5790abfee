// The benchmark suite (issue 8; docs/performance.md). Starts its own Redis, IdP, upstream, gateways and
// baselines on loopback, runs each scenario against a baseline measured in the same run, prints a table
// and writes bench/results.json. Every figure is a ratio or difference of medians of alternating runs.
//   npm run bench                       full run (several minutes)
//   npm run bench -- --quick            under two minutes
//   npm run bench -- --only http,decide only these scenarios (results.json is written by complete runs only)
//   npm run bench -- --profile          also CPU-profile the gateway and print its hottest functions
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startEnvironment } from './environment.js';
import { machine, table, writeResults, type Row } from './report.js';
import { busiestProfile, printSummary } from './profile-summary.js';
import { Accounts, type Scenario, type Settings } from './scenarios/scenario.js';
import { httpScenario } from './scenarios/http.js';
import { forwardAuthScenario } from './scenarios/forward-auth.js';
import { websocketScenario } from './scenarios/websocket.js';
import { xmppScenario } from './scenarios/xmpp.js';
import { joinStormScenario } from './scenarios/join-storm.js';
import { auditScenario } from './scenarios/audit.js';
import { decideScenario } from './scenarios/decide.js';
import { logScenario } from './scenarios/log.js';

const SCENARIOS: Scenario[] = [httpScenario, forwardAuthScenario, websocketScenario, xmppScenario, joinStormScenario, auditScenario, decideScenario, logScenario];
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, profile: { type: 'boolean', default: false } },
  strict: true,
});
const chosen = values.only ? values.only.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
const unknown = chosen.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const settings: Settings = values.quick
  ? { quick: true, reps: 3, seconds: 1.25, stormPeople: 50, idleSockets: 1_000, decideMs: 100 }
  : { quick: false, reps: 5, seconds: 5, stormPeople: 200, idleSockets: 5_000, decideMs: 300 };
// Every sign-in uses its own account: a few per scenario, plus fresh people for each join storm.
const accounts = new Accounts(40 + settings.reps * settings.stormPeople);
const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'rg-bench-profile-')) : undefined;

const started = performance.now();
const host = machine();
console.log(`roomguard benchmarks (${settings.quick ? 'quick' : 'full'}): ${host.cores} cores, ${host.cpuModel}, Node ${host.node}, load ${host.loadAverage.start.toFixed(2)}, commit ${host.gitCommit}`);
const env = await startEnvironment({ users: accounts.total, ...(profileDir ? { profileDir } : {}) });
const rows: Row[] = [];
let failed = false;
try {
  for (const scenario of SCENARIOS.filter((s) => chosen.includes(s.name))) {
    const t0 = performance.now();
    process.stdout.write(`- ${scenario.name} … `);
    try {
      const got = await scenario.run(env, settings, accounts);
      rows.push(...got);
      console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      // One broken scenario must not hide the others' figures; the run still exits non-zero.
      failed = true;
      console.log('failed');
      console.error((err as Error).stack ?? err);
      rows.push({ scenario: scenario.name, metric: 'scenario failed', unit: '-', goal: '-', pass: false, note: (err as Error).message.slice(0, 200) });
    }
  }
} finally {
  await env.close();
}
host.loadAverage.end = loadavg()[0]!;
const seconds = (performance.now() - started) / 1000;
console.log(`\n${table(rows)}\n\n${rows.filter((r) => r.pass === false).length} missed, ${seconds.toFixed(0)} s, load average ${host.loadAverage.start.toFixed(2)} → ${host.loadAverage.end.toFixed(2)}`);
if (!values.only) {
  const resultsFile = join(BENCH_DIR, 'results.json');
  writeResults(resultsFile, { mode: settings.quick ? 'quick' : 'full', machine: host, seconds: Math.round(seconds), rows });
  console.log(`written ${resultsFile}`);
}
if (profileDir) {
  const main = busiestProfile(readdirSync(profileDir).map((file) => join(profileDir, file)));
  if (main) printSummary(main, 40);
}
process.exit(failed ? 1 : 0);
