// Regenerates the header lines of the web-server snippets in deploy/ from src/gateway/identity-headers.ts
// (the rule) and src/gateway/forward-auth.ts (the names roomguard answers with).
import { readFileSync, writeFileSync } from 'node:fs';
import { fillRegions, generatedRegions } from '../src/gateway/header-snippets.js';

for (const [file, regions] of Object.entries(generatedRegions())) {
  const url = new URL(`../deploy/${file}`, import.meta.url);
  writeFileSync(url, fillRegions(readFileSync(url, 'utf8'), regions, `deploy/${file}`));
  console.log(`deploy/${file} written`);
}
