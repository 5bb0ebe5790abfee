// Reads roomguard.yaml from disk and validates it (see validate.ts).
import { readFileSync, statSync } from 'node:fs';
import { resolve, dirname, isAbsolute } from 'node:path';
import { loadConfigText, type ConfigResult } from './validate.js';
import type { Config } from './schema.js';

export function loadConfigFile(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  if (file === undefined) return loadConfigText('(no config file)', '', env);
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile() && !stat.isDirectory()) return { problems: [{ file, line: undefined, field: '', message: 'cannot read config file: not a regular file' }], warnings: [] };
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [{ file, line: undefined, field: '', message: `cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], warnings: [] };
  }
  return loadConfigText(file, text, env);
}

/** A directory from the config, relative to the config file's folder, as admins expect. */
export function configRelative(config: Config, dir: string): string {
  if (isAbsolute(dir)) return dir;
  const base = config.sourceFile.startsWith('(') || config.sourceFile.startsWith('$') ? process.cwd() : dirname(resolve(config.sourceFile));
  return resolve(base, dir);
}

export function policiesDirOf(config: Config): string {
  return configRelative(config, config.policies.dir);
}

export function auditDirOf(config: Config): string {
  return configRelative(config, config.audit.dir);
}
