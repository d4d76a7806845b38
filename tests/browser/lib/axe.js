// Runs axe-core (the accessibility rules engine) in a page and returns the serious and critical
// violations. The script is evaluated through the DevTools protocol, which the page's CSP does
// not restrict, so the page under test keeps its real policy.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe violations of the page as it is now: [{ id, impact, help, nodes }]. */
export async function axeViolations(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(source);
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
}
