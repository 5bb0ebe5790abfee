// `roomguard compliance report --config FILE [--audit DIR] --out FILE [--lang de|en]`: the compliance
// matrix filled in for this deployment (src/compliance/), written as Markdown and as a printable HTML page.
// Exit 1 when a requirement the deployment could meet is not met.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { printProblems } from './output.js';
import { EXIT, type CliIo, type CommandArgs } from './table.js';

/** `report`, `report.md` or `report.html` → both `report.md` and `report.html`. */
export function reportFiles(out: string): { markdown: string; html: string } {
  const base = resolve(out).replace(/\.(md|markdown|html?)$/i, '');
  return { markdown: `${base}.md`, html: `${base}.html` };
}

/**
 * Writes `file` through a fresh temporary file beside it and a rename: a symlink planted at the name is
 * replaced, never followed, and a reader never sees half a report.
 */
export async function writeReplacing(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
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
  const checkpoints = args.string('checkpoints');
  const publicKey = args.string('public-key');
  const { readFile } = await import('node:fs/promises');
  const facts = await gatherFacts(config, {
    ...(audit ? { auditDir: resolve(audit) } : {}), reserved: backendFor(config).reservedRooms,
    ...(checkpoints ? { checkpointFiles: [resolve(checkpoints)] } : {}),
    ...(publicKey ? { publicKeyPem: await readFile(resolve(publicKey), 'utf8') } : {}),
  });
  const report = buildReport(facts);
  const lang = args.string('lang') === 'en' ? 'en' : 'de';
  const files = reportFiles(args.string('out')!);
  await writeReplacing(files.markdown, reportMarkdown(report, lang));
  await writeReplacing(files.html, complianceDocument(report, lang));
  const c = countsOf(report);
  io.out(`wrote ${files.markdown} and ${files.html}: ${c.met} met, ${c.duty} operator's duty, ${c.notMet} not met; audit chain ${facts.chain.ok ? 'verified' : 'FAILED verification'}\n`);
  for (const row of report.rows.filter((r) => r.requirement.servable && r.verdict.status === 'not-met')) io.out(`not met: ${row.requirement.id}: ${row.verdict.reason.en}\n`);
  return report.notMet > 0 ? EXIT.problems : EXIT.ok;
}
