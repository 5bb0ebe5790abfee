// The servers a benchmark measures run as compiled JavaScript under plain `node`, as `roomguard serve`
// does in production (`npm run build`), not through tsx's loader: its per-module transform and its
// helpers (esbuild's `__name` wrapper on every closure) would otherwise be measured as roomguard's cost.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Inside the checkout, so the compiled modules resolve `node_modules` as the sources do. */
export const BUILD_DIR = fileURLToPath(new URL('./.build/', import.meta.url));
export const COMPILED_SERVE = `${BUILD_DIR}bench/serve.js`;

/** Compiles bench/serve.ts and everything it imports (src/ included) into bench/.build (type checks are npm test's job). */
export function compileServers(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.bench.json', '--noCheck'], { cwd: ROOT, stdio: 'inherit' });
  // Page assets are read from beside the compiled modules, as in dist/.
  cpSync(`${ROOT}src/ui/assets`, `${BUILD_DIR}src/ui/assets`, { recursive: true });
}
