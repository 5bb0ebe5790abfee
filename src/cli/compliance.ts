// `roomguard compliance report --config FILE [--audit DIR] --out FILE [--lang de|en]`: the compliance
// matrix filled in for this deployment (src/compliance/), written as Markdown and as a printable HTML page.
// Exit 1 when a requirement the deployment could meet is not met.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { printProblems } from './output.js';
import { EXIT, type CliIo, type CommandArgs } from './table.js';

/** `report`, `report.md` or `report.html` → both `report.md` and `report.html`. */
export function reportFiles(out: string): { markdown: string; html: string } {
  const base = resolve(out).replace(/\.(md|markdown|html?)$/i, '');
  return { markdown: `${base}.md`, html: `${base}.html` };
}

export async function complianceReport(args: CommandArgs, io: CliIo): Promise<number> {
  const { config, problems } = loadConfigFile(args.string('config'));
  if (!config) {
    printProblems(problems, io.out);
    return EXIT.problems;
  }
  const { gatherFacts } = await import('../compliance/facts.js');
  const { buildReport, countsOf, reportMarkdown } = await import('../compliance/report.js');
  const { complianceDocument } = await import('../ui/compliance-page.js');
  const { backendFor } = await import('../backends/from-config.js');
  const audit = args.string('audit');
  const facts = await gatherFacts(config, { ...(audit ? { auditDir: resolve(audit) } : {}), reserved: backendFor(config).reservedRooms });
  const report = buildReport(facts);
  const lang = args.string('lang') === 'en' ? 'en' : 'de';
  const files = reportFiles(args.string('out')!);
  await writeFile(files.markdown, reportMarkdown(report, lang));
  await writeFile(files.html, complianceDocument(report, lang));
  const c = countsOf(report);
  io.out(`wrote ${files.markdown} and ${files.html}: ${c.met} met, ${c.duty} operator's duty, ${c.notMet} not met; audit chain ${facts.chain.ok ? 'verified' : 'FAILED verification'}\n`);
  for (const row of report.rows.filter((r) => r.requirement.servable && r.verdict.status === 'not-met')) io.out(`not met: ${row.requirement.id}: ${row.verdict.reason.en}\n`);
  return report.notMet > 0 ? EXIT.problems : EXIT.ok;
}
