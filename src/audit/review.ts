// The reviewer page `/_roomguard/audit`, rendered as plain HTML by a pure function: chain status, a
// filter form (GET), a chart of room entries over time (allowed vs denied) drawn server-side as SVG,
// and the records with each reason code in words. No scripts; every value is escaped; the stylesheet is
// AUDIT_CSS, which the gateway serves at /_roomguard/assets/audit.css (the CSP allows only 'self' styles).
import { ERRORS } from '../errors.js';
import { escapeHtml } from '../ui/pages.js';
import type { Lang } from '../ui/i18n.js';
import { AUDIT_OUTCOMES, AUDIT_RECORD_TYPES, type AuditRecord } from './record.js';
import { AUDIT_TEXT, OUTCOME_TEXT, REASON_DE, TYPE_TEXT } from './i18n.js';
import type { CheckpointSummary, VerifyReport } from './verify.js';

/** The form's values as the reviewer typed them (shown back in the form and carried into the CSV link). */
export interface AuditPageFilters {
  room?: string;
  user?: string;
  type?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

export interface ChainStatus {
  ok: boolean;
  /** ISO time of the verification. */
  checkedAt: string;
  records: number;
  problems: number;
  /** `file:line: kind` of the first problem. */
  firstProblem?: string;
  signatures: 'checked' | 'unchecked';
  lastCheckpoint?: CheckpointSummary;
  /** The writer's health (false: joins are being refused). */
  writerHealthy?: boolean;
}

export function chainStatusOf(report: VerifyReport, checkedAt: number, writerHealthy?: boolean): ChainStatus {
  const first = report.problems[0];
  return {
    ok: report.ok, checkedAt: new Date(checkedAt).toISOString(), records: report.records, problems: report.problems.length,
    signatures: report.signatures,
    ...(first ? { firstProblem: `${first.file.split('/').slice(-2).join('/')}:${first.line}: ${first.kind}` } : {}),
    ...(report.lastCheckpoint ? { lastCheckpoint: report.lastCheckpoint } : {}),
    ...(writerHealthy !== undefined ? { writerHealthy } : {}),
  };
}

export interface AuditPageInput {
  lang: Lang;
  /** The records to show, oldest first (the caller applies filters and a limit). */
  records: readonly AuditRecord[];
  filters: AuditPageFilters;
  chainStatus: ChainStatus;
  /** Shown as "showing N of total" when more records matched than are shown. */
  total?: number;
  /** Filter fields that could not be understood. */
  invalid?: readonly string[];
  /** With a token, the page offers a POST button to re-verify the chain (`<basePath>/verify`). */
  csrfToken?: string;
  /** Accepted for symmetry with other pages; this page has no scripts. */
  nonce?: string;
  orgName?: string;
  basePath?: string;
  /** Chart range in ms (defaults: the records' own range). */
  range?: { since?: number; until?: number };
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_BUCKETS = 120;

export interface JoinChart {
  unit: 'hour' | 'day';
  buckets: Array<{ start: number; allowed: number; denied: number }>;
}

/** Room decisions per hour (spans up to two days) or per day: allowed vs denied. */
export function joinsOverTime(records: readonly AuditRecord[], range: { since?: number; until?: number } = {}): JoinChart {
  const decisions = records.filter((r) => r.type === 'room.decision' && (r.outcome === 'allow' || r.outcome === 'deny'));
  const times = decisions.map((r) => Date.parse(r.ts));
  if (times.length === 0) return { unit: 'hour', buckets: [] };
  const from = range.since ?? Math.min(...times);
  const to = range.until ?? Math.max(...times) + 1;
  const unit = to - from <= 2 * DAY ? 'hour' : 'day';
  const size = unit === 'hour' ? HOUR : DAY;
  const last = Math.floor((to - 1) / size) * size;
  const first = Math.max(Math.floor(from / size) * size, last - (MAX_BUCKETS - 1) * size);
  const buckets: JoinChart['buckets'] = [];
  for (let start = first; start <= last; start += size) buckets.push({ start, allowed: 0, denied: 0 });
  decisions.forEach((r, i) => {
    const index = Math.floor((times[i]! - first) / size);
    const bucket = buckets[index];
    if (!bucket) return;
    if (r.outcome === 'allow') bucket.allowed++;
    else bucket.denied++;
  });
  return { unit, buckets };
}

function bucketLabel(start: number, unit: JoinChart['unit']): string {
  const iso = new Date(start).toISOString();
  return unit === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

function chartSvg(chart: JoinChart, lang: Lang): string {
  const t = AUDIT_TEXT[lang];
  const W = 720;
  const H = 220;
  const left = 44;
  const bottom = 34;
  const top = 12;
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const max = Math.max(1, ...chart.buckets.map((b) => Math.max(b.allowed, b.denied)));
  const groupW = plotW / chart.buckets.length;
  const barW = Math.max(1, groupW * 0.4);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const totalAllowed = chart.buckets.reduce((n, b) => n + b.allowed, 0);
  const totalDenied = chart.buckets.reduce((n, b) => n + b.denied, 0);
  const bars = chart.buckets.map((b, i) => {
    const x = left + i * groupW + groupW * 0.1;
    const label = bucketLabel(b.start, chart.unit);
    return `<rect class="bar-allow" x="${x.toFixed(1)}" y="${y(b.allowed).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.allowed)).toFixed(1)}"><title>${escapeHtml(`${label}: ${b.allowed} ${t.chartAllowed}`)}</title></rect>`
      + `<rect class="bar-deny" x="${(x + barW).toFixed(1)}" y="${y(b.denied).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.denied)).toFixed(1)}"><title>${escapeHtml(`${label}: ${b.denied} ${t.chartDenied}`)}</title></rect>`;
  });
  const ticks = [...new Set([0, Math.floor((chart.buckets.length - 1) / 2), chart.buckets.length - 1])].map((i) => {
    const x = left + i * groupW + groupW / 2;
    const anchor = i === 0 ? 'start' : i === chart.buckets.length - 1 ? 'end' : 'middle';
    return `<text class="axis" x="${(i === 0 ? left : i === chart.buckets.length - 1 ? W - 8 : x).toFixed(1)}" y="${H - 12}" text-anchor="${anchor}">${escapeHtml(bucketLabel(chart.buckets[i]!.start, chart.unit))}</text>`;
  });
  const summary = `${t.chartTitle} (${chart.unit === 'hour' ? t.perHour : t.perDay}): ${totalAllowed} ${t.chartAllowed}, ${totalDenied} ${t.chartDenied}`;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">${escapeHtml(summary)}</title>
<line class="axis-line" x1="${left}" y1="${top + plotH}" x2="${W - 8}" y2="${top + plotH}"/>
<line class="axis-line" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}"/>
<text class="axis" x="${left - 6}" y="${top + 10}" text-anchor="end">${max}</text>
<text class="axis" x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>
${bars.join('\n')}
${ticks.join('\n')}
</svg>`;
}

function chartSection(chart: JoinChart, lang: Lang): string {
  const t = AUDIT_TEXT[lang];
  if (chart.buckets.length === 0) return `<section aria-labelledby="chart-h"><h2 id="chart-h">${t.chartTitle}</h2><p>${t.chartNone}</p></section>`;
  const rows = chart.buckets.map((b) => `<tr><td>${escapeHtml(bucketLabel(b.start, chart.unit))}</td><td>${b.allowed}</td><td>${b.denied}</td></tr>`).join('\n');
  return `<section aria-labelledby="chart-h"><h2 id="chart-h">${t.chartTitle} <small>(${chart.unit === 'hour' ? t.perHour : t.perDay})</small></h2>
<p class="legend"><span class="key key-allow"></span> ${t.chartAllowed} <span class="key key-deny"></span> ${t.chartDenied}</p>
${chartSvg(chart, lang)}
<details><summary>${t.chartNumbers}</summary>
<table class="numbers"><thead><tr><th scope="col">${t.chartPeriod}</th><th scope="col">${t.chartAllowed}</th><th scope="col">${t.chartDenied}</th></tr></thead>
<tbody>${rows}</tbody></table></details>
</section>`;
}

/** A reason code with its explanation in the page's language. */
export function reasonText(code: string, lang: Lang): string {
  const english = (ERRORS as Record<string, { summary: string } | undefined>)[code]?.summary;
  return (lang === 'de' ? REASON_DE[code] : undefined) ?? english ?? '';
}

function personCell(record: AuditRecord, lang: Lang): string {
  const a = record.actor;
  if (!a) return '';
  if ('pseudonym' in a) return `<span title="${escapeHtml(a.pseudonym)}">${AUDIT_TEXT[lang].pseudonymous} <code>${escapeHtml(a.pseudonym.slice(0, 16))}…</code></span>`;
  const shown = a.email ?? a.sub;
  return `<span title="${escapeHtml(`${a.iss} ${a.sub}`)}">${escapeHtml(shown)}</span>${a.name ? `<br><small>${escapeHtml(a.name)}</small>` : ''}`;
}

function row(record: AuditRecord, lang: Lang): string {
  const t = AUDIT_TEXT[lang];
  const room = record.room ?? (typeof record.details?.room === 'string' ? record.details.room : undefined);
  const policy = record.policy
    ? `<span title="sha256 ${escapeHtml(record.policy.sha256)}">${escapeHtml(record.policy.file)}</span>${record.policy.rule ? ` <code>${escapeHtml(record.policy.rule)}</code>` : ''}${record.policy.line !== undefined ? ` <small>:${record.policy.line}</small>` : ''}`
    : '';
  const factor = record.auth
    ? `${escapeHtml(record.auth.methods.join(', '))}${record.auth.mfaAgeSeconds !== undefined ? ` <small>(${record.auth.mfaAgeSeconds}${t.ageSeconds})</small>` : ''}`
    : typeof record.details?.method === 'string' ? escapeHtml(record.details.method) : '';
  const reasons = record.reason ? [record.reason, ...(Array.isArray(record.details?.reasons) ? record.details.reasons.filter((r) => r !== record.reason) : [])] : [];
  const reason = reasons.map((code) => `<code>${escapeHtml(code)}</code> ${escapeHtml(reasonText(code, lang))}`).join('<br>');
  const client = record.client ? `${escapeHtml(record.client.ip ?? '')}${record.client.userAgent ? `<br><small>${escapeHtml(record.client.userAgent.slice(0, 80))}</small>` : ''}` : '';
  const outcomeClass = record.outcome === 'deny' || record.outcome === 'failure' ? 'outcome-bad' : record.outcome === 'allow' || record.outcome === 'success' ? 'outcome-good' : 'outcome-other';
  return `<tr>
<td><time datetime="${escapeHtml(record.ts)}">${escapeHtml(record.ts.slice(0, 19).replace('T', ' '))}</time><br><small>${escapeHtml(record.instance)}:${record.seq}</small></td>
<td>${escapeHtml(TYPE_TEXT[record.type]?.[lang] ?? record.type)}<br><small><code>${escapeHtml(record.type)}</code></small></td>
<td class="${outcomeClass}">${escapeHtml(OUTCOME_TEXT[record.outcome]?.[lang] ?? record.outcome)}</td>
<td>${personCell(record, lang)}</td>
<td>${room !== undefined ? escapeHtml(room) : ''}</td>
<td>${record.role ? escapeHtml(record.role) : ''}</td>
<td>${policy}</td>
<td>${factor}</td>
<td>${reason}</td>
<td>${client}</td>
</tr>`;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}

function statusSection(status: ChainStatus, lang: Lang, csrfToken: string | undefined, basePath: string): string {
  const t = AUDIT_TEXT[lang];
  const cp = status.lastCheckpoint;
  const checkpoint = cp
    ? `${t.lastCheckpoint}: ${escapeHtml(cp.instance)} seq ${cp.seq}, <time datetime="${escapeHtml(cp.ts)}">${escapeHtml(cp.ts.slice(0, 19).replace('T', ' '))}</time> UTC, key <code>${escapeHtml(cp.keyId)}</code>`
    : t.noCheckpoint;
  return `<section class="status ${status.ok ? 'status-ok' : 'status-bad'}" aria-labelledby="status-h">
<h2 id="status-h">${status.ok ? t.chainOk : t.chainBad}</h2>
<p>${status.records} ${t.chainRecords}${status.ok ? '' : `, ${status.problems} ${t.chainProblems}`} (${t.chainChecked} <time datetime="${escapeHtml(status.checkedAt)}">${escapeHtml(status.checkedAt.slice(0, 19).replace('T', ' '))}</time> UTC)</p>
${status.firstProblem ? `<p>${t.chainFirstProblem}: <code>${escapeHtml(status.firstProblem)}</code></p>` : ''}
<p>${checkpoint}</p>
${status.signatures === 'unchecked' ? `<p class="hint">${t.chainUnsigned}</p>` : ''}
${status.writerHealthy === false ? `<p class="error" role="alert">${t.writerDown}</p>` : ''}
${csrfToken ? `<form method="post" action="${escapeHtml(basePath)}/verify"><input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}"><button type="submit" class="secondary">${t.verifyNow}</button></form>` : ''}
</section>`;
}

function filterForm(filters: AuditPageFilters, lang: Lang, basePath: string, invalid: readonly string[] | undefined): string {
  const t = AUDIT_TEXT[lang];
  const input = (name: keyof AuditPageFilters, label: string, hint?: string) => `<div class="field"><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" type="text" value="${escapeHtml(filters[name] ?? '')}"${hint ? ` aria-describedby="hint-time"` : ''} autocomplete="off"${invalid?.includes(name) ? ' aria-invalid="true"' : ''}></div>`;
  const select = (name: 'type' | 'outcome', label: string, options: Array<[string, string]>) => `<div class="field"><label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}"><option value="">${t.any}</option>${options.map(([value, text]) => `<option value="${escapeHtml(value)}"${filters[name] === value ? ' selected' : ''}>${escapeHtml(text)}</option>`).join('')}</select></div>`;
  return `<section aria-labelledby="filter-h"><h2 id="filter-h">${t.filters}</h2>
${invalid && invalid.length > 0 ? `<p class="error" role="alert">${t.invalid} ${invalid.map((f) => escapeHtml(f)).join(', ')}</p>` : ''}
<form method="get" action="${escapeHtml(basePath)}" class="filters">
<input type="hidden" name="lang" value="${lang}">
${input('room', t.room)}
${input('user', t.person)}
${select('type', t.type, AUDIT_RECORD_TYPES.map((type) => [type, `${TYPE_TEXT[type][lang]} (${type})`]))}
${select('outcome', t.outcome, AUDIT_OUTCOMES.map((o) => [o, OUTCOME_TEXT[o][lang]]))}
${input('since', t.since, 'time')}
${input('until', t.until, 'time')}
<p id="hint-time" class="hint">${t.timeHint}</p>
<div class="actions"><button type="submit">${t.apply}</button> <a href="${escapeHtml(`${basePath}${query({ lang })}`)}">${t.reset}</a>
<a class="button secondary" href="${escapeHtml(`${basePath}${query({ ...filters, format: 'csv' })}`)}" download>${t.csv}</a></div>
</form></section>`;
}

export function renderAuditPage(input: AuditPageInput): string {
  const { lang } = input;
  const t = AUDIT_TEXT[lang];
  const basePath = input.basePath ?? '/_roomguard/audit';
  const other: Lang = lang === 'de' ? 'en' : 'de';
  const orgName = input.orgName ?? 'roomguard';
  const shown = input.records.length;
  const total = input.total ?? shown;
  const newestFirst = [...input.records].reverse();
  const table = shown === 0
    ? `<p>${t.none}</p>`
    : `<div class="table-wrap"><table class="records">
<caption>${total > shown ? `${t.showing} ${shown} ${t.of} ${total}` : `${shown} ${t.records}`}</caption>
<thead><tr><th scope="col">${t.colTime}</th><th scope="col">${t.colEvent}</th><th scope="col">${t.colOutcome}</th><th scope="col">${t.colPerson}</th><th scope="col">${t.colRoom}</th><th scope="col">${t.colRole}</th><th scope="col">${t.colPolicy}</th><th scope="col">${t.colFactor}</th><th scope="col">${t.colReason}</th><th scope="col">${t.colClient}</th></tr></thead>
<tbody>
${newestFirst.map((r) => row(r, lang)).join('\n')}
</tbody></table></div>`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${escapeHtml(t.title)} · ${escapeHtml(orgName)}</title>
<link rel="stylesheet" href="/_roomguard/assets/style.css">
<link rel="stylesheet" href="/_roomguard/assets/audit.css">
</head>
<body class="audit-page">
<header class="brand"><span>${escapeHtml(orgName)}</span>
<a class="lang" href="${escapeHtml(`${basePath}${query({ ...input.filters, lang: other })}`)}" hreflang="${other}" lang="${other}">${t.language}</a></header>
<main class="audit">
<h1>${escapeHtml(t.title)}</h1>
${statusSection(input.chainStatus, lang, input.csrfToken, basePath)}
${filterForm(input.filters, lang, basePath, input.invalid)}
${chartSection(joinsOverTime(input.records, input.range ?? {}), lang)}
<section aria-labelledby="records-h"><h2 id="records-h">${t.records}</h2>
${table}
</section>
</main>
</body>
</html>
`;
}

/** Stylesheet of the reviewer page; serve it as /_roomguard/assets/audit.css (text/css). */
export const AUDIT_CSS = `/* roomguard reviewer page: wide tables, chart colours with enough contrast in light and dark mode. */
body.audit-page { display: block; }
.audit { background: var(--card); max-width: 90rem; margin: 0 auto; padding: 1.5rem; border-radius: 12px; box-shadow: 0 2px 12px rgb(0 0 0 / 12%); }
.audit .status { border-left: 6px solid; padding: 0.25rem 1rem; }
.audit .status-ok { border-color: #146c2e; }
.audit .status-bad { border-color: #b3261e; }
.audit .status h2 { margin: 0.5rem 0; }
.audit .filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: flex-end; }
.audit .filters .field { display: flex; flex-direction: column; min-width: 12rem; }
.audit .filters label { margin: 0.5rem 0 0.25rem; }
.audit .filters input, .audit .filters select { font: inherit; padding: 0.5rem; border: 2px solid var(--muted); border-radius: 8px; background: var(--card); color: var(--fg); max-width: 100%; }
.audit .filters .hint { flex-basis: 100%; }
.audit .filters .actions { flex-basis: 100%; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.audit .chart { width: 100%; max-width: 60rem; height: auto; }
.audit .chart .bar-allow, .audit .key-allow { fill: #146c2e; background: #146c2e; }
.audit .chart .bar-deny, .audit .key-deny { fill: #b3261e; background: #b3261e; }
.audit .chart .axis { font-size: 11px; fill: var(--muted); }
.audit .chart .axis-line { stroke: var(--muted); stroke-width: 1; }
.audit .key { display: inline-block; width: 0.9rem; height: 0.9rem; vertical-align: middle; border-radius: 2px; }
.audit .table-wrap { overflow-x: auto; }
.audit table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.audit th, .audit td { text-align: left; vertical-align: top; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--muted); }
.audit caption { text-align: left; color: var(--muted); padding: 0.25rem 0; }
.audit .outcome-good { color: #146c2e; font-weight: 600; }
.audit .outcome-bad { color: #b3261e; font-weight: 600; }
@media (prefers-color-scheme: dark) {
  .audit .chart .bar-allow, .audit .key-allow { fill: #6dd58c; background: #6dd58c; }
  .audit .chart .bar-deny, .audit .key-deny { fill: #ffb4ab; background: #ffb4ab; }
  .audit .outcome-good { color: #6dd58c; }
  .audit .outcome-bad { color: #ffb4ab; }
}
`;
