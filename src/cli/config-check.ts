// `roomguard config check --config FILE`: every problem and every warning of a configuration at once.
import { loadConfigFile } from '../config/load.js';
import { printProblems, printWarnings } from './output.js';
import { EXIT, type CliIo } from './table.js';

export async function configCheck(file: string, io: CliIo): Promise<number> {
  const { config, problems, warnings } = loadConfigFile(file);
  printWarnings(warnings, io.out);
  if (!config) {
    printProblems(problems, io.out);
    return EXIT.problems;
  }
  io.out(`${file}: ok${warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''}\n`);
  return EXIT.ok;
}
