// The reviewer page `/_roomguard/audit`, rendered as plain HTML by a pure function in the one layout:
// chain status, a filter form (GET), a chart of room entries over time (allowed vs denied) drawn
// server-side as SVG, and the records with each reason code in words. No scripts; written with the
// escaping `html` tag; its stylesheet (assets/audit.css) is served at /_roomguard/assets/audit.css.
import { readFileSync } from 'node:fs';
import { ERRORS } from '../errors.js';
import type { Lang } from './i18n.js';
import { html, join, type SafeHtml } from './html.js';
import { layout, type SiteLinks } from './layout.js';
import { formatStamp, serverTimeZone } from './time.js';
import { AUDIT_OUTCOMES, AUDIT_RECORD_TYPES, type AuditRecord } from '../audit/record.js';
import { AUDIT_TEXT, OUTCOME_TEXT, REASON_DE, TYPE_TEXT } from './audit-text.js';
import type { CheckpointSummary, VerifyReport } from '../audit/verify.js';

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
  /** The response's CSP nonce (the page has no scripts; the layout carries it like every page's). */
  nonce?: string;
  orgName?: string;
  basePath?: string;
  /** Chart range in ms (defaults: the records' own range). */
  range?: { since?: number; until?: number };
  /** Zone of the times shown (`ui.timeZone`; default the server's). */
  timeZone?: string;
  links?: SiteLinks;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Most bars a chart draws: fewer than this many buckets fit the range at the chosen size. */
const MAX_BUCKETS = 48;
/** Bucket sizes from fine to coarse; the first that fits the range in MAX_BUCKETS wins. */
const STEPS: ReadonlyArray<{ unit: JoinChart['unit']; count: number }> = [
  { unit: 'minute', count: 1 }, { unit: 'minute', count: 5 }, { unit: 'minute', count: 15 }, { unit: 'minute', count: 30 },
  { unit: 'hour', count: 1 }, { unit: 'hour', count: 3 }, { unit: 'hour', count: 6 }, { unit: 'hour', count: 12 },
  { unit: 'day', count: 1 }, { unit: 'day', count: 7 },
];
const UNIT_MS = { minute: MINUTE, hour: HOUR, day: DAY } as const;

export interface JoinChart {
  unit: 'minute' | 'hour' | 'day';
  /** Units per bucket (5 minutes, 3 hours …). */
  count: number;
  /** The zone buckets are aligned to and labelled in. */
  zone: string;
  buckets: Array<{ start: number; allowed: number; denied: number }>;
}

/** One row of the records table: a record, and the WebSockets of the same join folded into it. */
export interface RecordRow {
  record: AuditRecord;
  sockets: number;
}

/** A WebSocket opened this soon after its session's entry to the same room belongs to that entry. */
const FOLD_WINDOW_MS = 10 * MINUTE;

const isSocketEntry = (r: AuditRecord) => r.type === 'room.decision' && r.outcome === 'allow' && r.details?.websocket === true;

/**
 * Records (oldest first) as rows: an allowed WebSocket entry is counted on the latest allowed entry of the
 * same session and room within ten minutes (the page load it came from), so one join is one row.
 */
export function foldWebSockets(records: readonly AuditRecord[]): RecordRow[] {
  const rows: RecordRow[] = [];
  const lastEntry = new Map<string, { row: RecordRow; at: number }>();
  for (const record of records) {
    const key = record.type === 'room.decision' && record.outcome === 'allow' && record.session && record.room ? `${record.session} ${record.room}` : undefined;
    const at = Date.parse(record.ts);
    const entry = key ? lastEntry.get(key) : undefined;
    if (isSocketEntry(record) && entry && at - entry.at <= FOLD_WINDOW_MS) {
      entry.row.sockets++;
      entry.at = at;
      continue;
    }
    const row = { record, sockets: 0 };
    rows.push(row);
    if (key) lastEntry.set(key, { row, at });
  }
  return rows;
}

/** How far `zone`'s wall clock is ahead of UTC at `ms` (ms; negative west of Greenwich). */
function zoneOffset(ms: number, zone: string): number {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(ms).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  return wall - Math.floor(ms / MINUTE) * MINUTE;
}

/**
 * Room entries (one per join, WebSockets folded) per bucket, allowed vs denied. The bucket size is the
 * finest of minutes, hours or days that covers the range in at most 48 bars, aligned to the zone's clock.
 */
export function joinsOverTime(records: readonly AuditRecord[], range: { since?: number; until?: number } = {}, zone = 'UTC'): JoinChart {
  const decisions = foldWebSockets(records).map((r) => r.record).filter((r) => r.type === 'room.decision' && (r.outcome === 'allow' || r.outcome === 'deny'));
  const times = decisions.map((r) => Date.parse(r.ts));
  if (times.length === 0) return { unit: 'hour', count: 1, zone, buckets: [] };
  const from = range.since ?? Math.min(...times);
  const to = Math.max(range.until ?? Math.max(...times) + 1, from + 1);
  const step = STEPS.find((s) => Math.ceil((to - from) / (UNIT_MS[s.unit] * s.count)) + 1 <= MAX_BUCKETS) ?? STEPS.at(-1)!;
  const size = UNIT_MS[step.unit] * step.count;
  const offset = zoneOffset(from, zone);
  const align = (t: number) => Math.floor((t + offset) / size) * size - offset;
  const last = align(to - 1);
  const first = Math.max(align(from), last - (MAX_BUCKETS * 2 - 1) * size);
  const buckets: JoinChart['buckets'] = [];
  for (let start = first; start <= last; start += size) buckets.push({ start, allowed: 0, denied: 0 });
  decisions.forEach((r, i) => {
    const bucket = buckets[Math.floor((times[i]! - first) / size)];
    if (!bucket) return;
    if (r.outcome === 'allow') bucket.allowed++;
    else bucket.denied++;
  });
  return { unit: step.unit, count: step.count, zone, buckets };
}

/** A bucket's start on the zone's clock: the day for day buckets, else the time (with the date when the chart spans days). */
function bucketLabel(start: number, chart: JoinChart): string {
  const iso = new Date(start + zoneOffset(start, chart.zone)).toISOString();
  if (chart.unit === 'day') return iso.slice(0, 10);
  const spansDays = chart.buckets.length > 0 && chart.buckets.at(-1)!.start - chart.buckets[0]!.start >= DAY;
  return spansDays ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** "per 5 minutes", "pro Stunde". */
function perBucket(chart: JoinChart, lang: Lang): string {
  const t = AUDIT_TEXT[lang];
  const names = { minute: [t.minute, t.minutes], hour: [t.hour, t.hours], day: [t.day, t.days] }[chart.unit];
  return chart.count === 1 ? `${t.per} ${names[0]}` : `${t.perEach} ${chart.count} ${names[1]}`;
}

function chartSvg(chart: JoinChart, lang: Lang): SafeHtml {
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
  // Two bars per bucket; never wider than 40 units, so a chart of few buckets does not draw slabs.
  const barW = Math.min(40, Math.max(1, groupW * 0.4));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const totalAllowed = chart.buckets.reduce((n, b) => n + b.allowed, 0);
  const totalDenied = chart.buckets.reduce((n, b) => n + b.denied, 0);
  const bars = chart.buckets.map((b, i) => {
    const x = left + i * groupW + (groupW - 2 * barW) / 2;
    const label = bucketLabel(b.start, chart);
    return [html`<rect class="bar-allow" x="${x.toFixed(1)}" y="${y(b.allowed).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.allowed)).toFixed(1)}"><title>${label}: ${b.allowed} ${t.chartAllowed}</title></rect>`,
      html`<rect class="bar-deny" x="${(x + barW).toFixed(1)}" y="${y(b.denied).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(b.denied)).toFixed(1)}"><title>${label}: ${b.denied} ${t.chartDenied}</title></rect>`];
  });
  const ticks = [...new Set([0, Math.floor((chart.buckets.length - 1) / 2), chart.buckets.length - 1])].map((i) => {
    const x = left + i * groupW + groupW / 2;
    const anchor = i === 0 ? 'start' : i === chart.buckets.length - 1 ? 'end' : 'middle';
    return html`<text class="axis" x="${(i === 0 ? left : i === chart.buckets.length - 1 ? W - 8 : x).toFixed(1)}" y="${H - 12}" text-anchor="${anchor}">${bucketLabel(chart.buckets[i]!.start, chart)}</text>`;
  });
  const summary = `${t.chartTitle} (${perBucket(chart, lang)}): ${totalAllowed} ${t.chartAllowed}, ${totalDenied} ${t.chartDenied}`;
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">${summary}</title>
<line class="axis-line" x1="${left}" y1="${top + plotH}" x2="${W - 8}" y2="${top + plotH}"/>
<line class="axis-line" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}"/>
<text class="axis" x="${left - 6}" y="${top + 10}" text-anchor="end">${max}</text>
<text class="axis" x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>
${join(bars, '\n')}
${join(ticks, '\n')}
</svg>`;
}

function chartSection(chart: JoinChart, lang: Lang): SafeHtml {
  const t = AUDIT_TEXT[lang];
  if (chart.buckets.length === 0) return html`<section aria-labelledby="chart-h"><h2 id="chart-h">${t.chartTitle}</h2><p>${t.chartNone}</p></section>`;
  const rows = join(chart.buckets.map((b) => html`<tr><td>${bucketLabel(b.start, chart)}</td><td>${b.allowed}</td><td>${b.denied}</td></tr>`), '\n');
  return html`<section aria-labelledby="chart-h"><h2 id="chart-h">${t.chartTitle} <small>(${perBucket(chart, lang)})</small></h2>
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

function personCell(record: AuditRecord, lang: Lang): SafeHtml | undefined {
  const a = record.actor;
  if (!a) return undefined;
  if ('pseudonym' in a) return html`<span title="${a.pseudonym}">${AUDIT_TEXT[lang].pseudonymous} <code>${a.pseudonym.slice(0, 16)}…</code></span>`;
  const shown = a.email ?? a.sub;
  return html`<span title="${a.iss} ${a.sub}">${shown}</span>${a.name && html`<br><small>${a.name}</small>`}`;
}

function row({ record, sockets }: RecordRow, lang: Lang, zone: string): SafeHtml {
  const t = AUDIT_TEXT[lang];
  const socket = sockets > 0 ? html`<br><small>+ ${sockets} ${sockets === 1 ? t.socket : t.sockets}</small>` : isSocketEntry(record) && html`<br><small>${t.socket}</small>`;
  const room = record.room ?? (typeof record.details?.room === 'string' ? record.details.room : undefined);
  const policy = record.policy
    && html`<span title="sha256 ${record.policy.sha256}">${record.policy.file}</span>${record.policy.rule && html` <code>${record.policy.rule}</code>`}${record.policy.line !== undefined && html` <small>:${record.policy.line}</small>`}`;
  const factor = record.auth
    ? html`${record.auth.methods.join(', ')}${record.auth.mfaAgeSeconds !== undefined && html` <small>(${record.auth.mfaAgeSeconds}${t.ageSeconds})</small>`}`
    : typeof record.details?.method === 'string' ? record.details.method : undefined;
  const reasons = record.reason ? [record.reason, ...(Array.isArray(record.details?.reasons) ? record.details.reasons.filter((r) => r !== record.reason) : [])] : [];
  const reason = join(reasons.map((code) => html`<code>${code}</code> ${reasonText(code, lang)}`), html`<br>`);
  const client = record.client && html`${record.client.ip ?? ''}${record.client.userAgent && html`<br><small>${record.client.userAgent.slice(0, 80)}</small>`}`;
  const outcomeClass = record.outcome === 'deny' || record.outcome === 'failure' ? 'outcome-bad' : record.outcome === 'allow' || record.outcome === 'success' ? 'outcome-good' : 'outcome-other';
  return html`<tr>
<td data-label="${t.colTime}"><time datetime="${record.ts}">${formatStamp(Date.parse(record.ts), lang, zone)}</time><br><small>${record.instance}:${record.seq}</small></td>
<td data-label="${t.colEvent}">${TYPE_TEXT[record.type]?.[lang] ?? record.type}<br><small><code>${record.type}</code></small>${socket}</td>
<td data-label="${t.colOutcome}" class="${outcomeClass}">${OUTCOME_TEXT[record.outcome]?.[lang] ?? record.outcome}</td>
<td data-label="${t.colPerson}">${personCell(record, lang)}</td>
<td data-label="${t.colRoom}">${room}</td>
<td data-label="${t.colRole}">${record.role}</td>
<td data-label="${t.colPolicy}">${policy}</td>
<td data-label="${t.colFactor}">${factor}</td>
<td data-label="${t.colReason}">${reason}</td>
<td data-label="${t.colClient}">${client}</td>
</tr>`;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}

function statusSection(status: ChainStatus, lang: Lang, csrfToken: string | undefined, basePath: string, zone: string): SafeHtml {
  const t = AUDIT_TEXT[lang];
  const cp = status.lastCheckpoint;
  const checkpoint = cp
    ? html`${t.lastCheckpoint}: ${cp.instance} seq ${cp.seq}, <time datetime="${cp.ts}">${formatStamp(Date.parse(cp.ts), lang, zone)}</time>, key <code>${cp.keyId}</code>`
    : t.noCheckpoint;
  return html`<section class="status ${status.ok ? 'status-ok' : 'status-bad'}" aria-labelledby="status-h">
<h2 id="status-h">${status.ok ? t.chainOk : t.chainBad}</h2>
<p>${status.records} ${t.chainRecords}${!status.ok && `, ${status.problems} ${t.chainProblems}`} (${t.chainChecked} <time datetime="${status.checkedAt}">${formatStamp(Date.parse(status.checkedAt), lang, zone)}</time>)</p>
${status.firstProblem && html`<p>${t.chainFirstProblem}: <code>${status.firstProblem}</code></p>`}
<p>${checkpoint}</p>
${status.signatures === 'unchecked' && html`<p class="hint">${t.chainUnsigned}</p>`}
${status.writerHealthy === false && html`<p class="error" role="alert">${t.writerDown}</p>`}
${csrfToken && html`<form method="post" action="${basePath}/verify"><input type="hidden" name="csrf" value="${csrfToken}"><button type="submit" class="secondary">${t.verifyNow}</button></form>`}
<p><a href="${basePath}/compliance">${t.complianceReport}</a></p>
</section>`;
}

function filterForm(filters: AuditPageFilters, lang: Lang, basePath: string, invalid: readonly string[] | undefined): SafeHtml {
  const t = AUDIT_TEXT[lang];
  const input = (name: keyof AuditPageFilters, label: string, hint?: string) => html`<div class="field"><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" type="text" value="${filters[name] ?? ''}"${hint !== undefined && html` aria-describedby="hint-time"`} autocomplete="off"${invalid?.includes(name) && html` aria-invalid="true"`}></div>`;
  const select = (name: 'type' | 'outcome', label: string, options: Array<[string, string]>) => html`<div class="field"><label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}"><option value="">${t.any}</option>${options.map(([value, text]) => html`<option value="${value}"${filters[name] === value && html` selected`}>${text}</option>`)}</select></div>`;
  return html`<section aria-labelledby="filter-h"><h2 id="filter-h">${t.filters}</h2>
${invalid && invalid.length > 0 && html`<p class="error" role="alert">${t.invalid} ${invalid.join(', ')}</p>`}
<form method="get" action="${basePath}" class="filters">
<input type="hidden" name="lang" value="${lang}">
${input('room', t.room)}
${input('user', t.person)}
${select('type', t.type, AUDIT_RECORD_TYPES.map((type) => [type, `${TYPE_TEXT[type][lang]} (${type})`]))}
${select('outcome', t.outcome, AUDIT_OUTCOMES.map((o) => [o, OUTCOME_TEXT[o][lang]]))}
${input('since', t.since, 'time')}
${input('until', t.until, 'time')}
<p id="hint-time" class="hint">${t.timeHint}</p>
<div class="actions"><button type="submit">${t.apply}</button> <a href="${basePath}${query({ lang })}">${t.reset}</a>
<a class="button secondary" href="${basePath}${query({ ...filters, format: 'csv' })}" download>${t.csv}</a></div>
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
  const newestFirst = foldWebSockets(input.records).reverse();
  const zone = input.timeZone ?? serverTimeZone();
  const table = shown === 0
    ? html`<p>${t.none}</p>`
    : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="records-h"><table class="records stack">
<caption>${total > shown ? `${t.showing} ${shown} ${t.of} ${total}` : `${shown} ${t.records}`}</caption>
<thead><tr><th scope="col">${t.colTime}</th><th scope="col">${t.colEvent}</th><th scope="col">${t.colOutcome}</th><th scope="col">${t.colPerson}</th><th scope="col">${t.colRoom}</th><th scope="col">${t.colRole}</th><th scope="col">${t.colPolicy}</th><th scope="col">${t.colFactor}</th><th scope="col">${t.colReason}</th><th scope="col">${t.colClient}</th></tr></thead>
<tbody>
${join(newestFirst.map((r) => row(r, lang, zone)), '\n')}
</tbody></table></div>`;
  const frame = { lang, orgName, hasLogo: false, nonce: input.nonce ?? '', switchHref: `${basePath}${query({ ...input.filters, lang: other })}`, timeZone: zone, ...(input.links ? { links: input.links } : {}) };
  return layout(frame, t.title, html`<h1>${t.title}</h1>
${statusSection(input.chainStatus, lang, input.csrfToken, basePath, zone)}
${filterForm(input.filters, lang, basePath, input.invalid)}
${chartSection(joinsOverTime(input.records, input.range ?? {}, zone), lang)}
<section aria-labelledby="records-h"><h2 id="records-h">${t.records}</h2>
${table}
</section>`, { reviewer: true });
}

/** Stylesheet of the reviewer page; the gateway serves it as /_roomguard/assets/audit.css (text/css). */
export const AUDIT_CSS = readFileSync(new URL('./assets/audit.css', import.meta.url), 'utf8');
