// `npm run screenshots`: every page roomguard shows participants, moderators and reviewers, photographed in
// real Chromium in German and English, on a laptop (1280×800) and a phone (390×844), full length, into
// test-artifacts/screenshots/<lang>-<screen>/<page>.png (ignored by git). For reviewing the pages as
// people see them; the accessibility test (test/e2e/accessibility.test.ts) walks the same pages.
//
//   npm run screenshots [-- --out DIR]
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/helpers/chromium.js';
import { SCREENS, walkPages, type Lang, type Screen } from '../test/helpers/page-tour.js';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? new URL('../test-artifacts/screenshots', import.meta.url).pathname);
const browser = await launchChromium();
let count = 0;
try {
  for (const lang of ['de', 'en'] as Lang[]) {
    for (const screen of Object.keys(SCREENS) as Screen[]) {
      const dir = join(out, `${lang}-${screen}`);
      mkdirSync(dir, { recursive: true });
      await walkPages(browser, lang, screen, async ({ name, audience, page }) => {
        await page.screenshot({ path: join(dir, `${audience}-${name}.png`), fullPage: true });
        count++;
      });
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(`${count} screenshots in ${out}\n`);
