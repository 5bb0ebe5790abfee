// The compliance report as HTML: a printable stand-alone document (`roomguard compliance report --out
// x.html`) and the same body inside the reviewer layout (/_roomguard/audit/compliance).
import { countsOf, REPORT_TEXT, settingsOf, textIn, type ComplianceReport, type ReportLang } from '../compliance/report.js';
import { printableDocument } from './document.js';
import { html, join, type SafeHtml } from './html.js';

const STATUS_CLASS = { met: 'met', duty: 'duty', 'not-met': 'not-met' } as const;

/** The matrix's texts mark settings and commands with Markdown backticks: as <code> here. */
function prose(text: string): SafeHtml {
  return join(text.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part)));
}

export function complianceBody(report: ComplianceReport, lang: ReportLang): SafeHtml {
  const w = REPORT_TEXT[lang];
  const c = countsOf(report);
  const settings = settingsOf(report.facts, lang).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`);
  // Cells name their column (data-label): on a phone the rows stack as cards (class "stack", style.css).
  const servable = report.rows.filter((r) => r.requirement.servable).map(({ requirement: r, verdict }) => html`<tr>
<td data-label="${w.requirement}"><strong>${r.id}</strong></td><td data-label="${w.asks}">${prose(textIn(r.asks, lang))}</td>
<td data-label="${w.verdict}" class="${STATUS_CLASS[verdict.status]}">${w.status[verdict.status]}</td><td data-label="${w.reason}">${textIn(verdict.reason, lang)}</td>
<td data-label="${w.duty}">${prose(textIn(r.duty, lang))}</td><td data-label="${w.proof}">${join(r.tests.map((t) => html`<code>${t.file}</code>: ${t.name}`), html`<br>`)}</td></tr>`);
  const other = report.rows.filter((r) => !r.requirement.servable).map(({ requirement: r }) => html`<tr>
<td data-label="${w.requirement}"><strong>${r.id}</strong></td><td data-label="${w.asks}">${prose(textIn(r.asks, lang))}</td><td data-label="${w.why}">${prose(textIn(r.feature, lang))}</td><td data-label="${w.duty}">${prose(textIn(r.duty, lang))}</td></tr>`);
  return html`<h1>${w.title}</h1>
<p>${w.made}: ${report.facts.generatedAt}</p>
<h2>${w.summary}</h2>
<p class="${report.notMet > 0 ? 'not-met' : 'met'}">${w.counts(c.met, c.duty, c.notMet)}</p>
<h2>${w.settings}</h2>
<table class="stack"><tbody>${settings}</tbody></table>
<h2>${w.matrix}</h2>
<table class="stack"><thead><tr><th scope="col">${w.requirement}</th><th scope="col">${w.asks}</th><th scope="col">${w.verdict}</th><th scope="col">${w.reason}</th><th scope="col">${w.duty}</th><th scope="col">${w.proof}</th></tr></thead>
<tbody>${servable}</tbody></table>
<h2>${w.notServable}</h2>
<table class="stack"><thead><tr><th scope="col">${w.requirement}</th><th scope="col">${w.asks}</th><th scope="col">${w.why}</th><th scope="col">${w.duty}</th></tr></thead>
<tbody>${other}</tbody></table>`;
}

export function complianceDocument(report: ComplianceReport, lang: ReportLang): string {
  return printableDocument(lang, REPORT_TEXT[lang].title, complianceBody(report, lang));
}
