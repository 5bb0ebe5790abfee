// A stand-alone printable document (a file handed to a data-protection officer or an auditor, not a page
// the gateway serves): its stylesheet inline, no scripts, no links to anything outside the file.
import { html, type SafeHtml } from './html.js';
import type { Lang } from './i18n.js';

const PRINT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:80rem;color:#111;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #bbb;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#eee}code{font-size:.92em;word-break:break-all}.met{color:#0a6b2c;font-weight:600}.not-met{color:#a50e0e;font-weight:600}
.duty{color:#6b4a00;font-weight:600}.muted{color:#555}@media print{body{margin:0;max-width:none}a{color:inherit}h2{break-after:avoid}tr{break-inside:avoid}}`;

export function printableDocument(lang: Lang, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${PRINT_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`.toString();
}
