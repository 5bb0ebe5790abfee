#!/usr/bin/env node
// roomguard's command line (bin/roomguard.js runs the compiled copy of this file). The commands, their
// options and help live in table.ts; this entry point refuses an unsupported Node.js first, then runs
// the command and sets the exit status.
import { runCli } from './main.js';
import { RUNNING } from './table.js';
import { unsupportedRuntime } from './version.js';

const refusal = unsupportedRuntime();
if (refusal) {
  process.stderr.write(`roomguard: ${refusal}\n`);
  process.exitCode = 1;
} else {
  const code = await runCli(process.argv.slice(2));
  // serve and demo keep running; their signal handlers end the process.
  if (code !== RUNNING) process.exitCode = code;
}
