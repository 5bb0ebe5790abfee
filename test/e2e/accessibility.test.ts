// axe-core (the npm package, injected into Debian Chromium) over every page roomguard shows participants,
// moderators and reviewers, in German and English, on a laptop (1280×800) and a phone (390×844): no
// violation of impact serious or critical, and no page a phone has to scroll sideways.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { SCREENS, TOUR, walkPages, type Lang, type Screen } from '../helpers/page-tour.js';

vi.setConfig({ testTimeout: 240_000 });
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

interface Finding { id: string; impact: string; targets: string[] }

/** axe-core's serious and critical violations on the page (evaluated through the DevTools protocol, so the page's CSP stays as it is). */
async function seriousViolations(page: Page): Promise<Finding[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact!, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
}

describe.each([['en', 'desktop'], ['en', 'phone'], ['de', 'desktop'], ['de', 'phone']] as Array<[Lang, Screen]>)('every page in %s on a %s', (lang, screen) => {
  it(`has no serious or critical axe-core violation${screen === 'phone' ? ' and no sideways scrolling' : ''}`, async () => {
    const problems: string[] = [];
    const seen = await walkPages(browser, lang, screen, async ({ name, page }) => {
      expect(await page.locator('html').getAttribute('lang'), name).toBe(lang);
      for (const v of await seriousViolations(page)) problems.push(`${name}: ${v.id} (${v.impact}) at ${v.targets.join(', ')}`);
      if (screen === 'phone') {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > SCREENS.phone.width) problems.push(`${name}: ${width} px wide on a ${SCREENS.phone.width} px screen`);
      }
    });
    expect(seen).toEqual([...TOUR]);
    expect(problems).toEqual([]);
  });
});
