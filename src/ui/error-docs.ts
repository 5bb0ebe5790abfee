// docs/errors.md, generated from the catalogue and the words participants see (`npm run docs:config`; a
// drift test compares it with the file).
import { ERRORS } from '../errors.js';
import { ERROR_TEXT } from './i18n.js';

/** docs/errors.md: the error and reason catalogue, with the words participants see. */
export function errorsMarkdown(): string {
  let out = `# Error and reason codes

<!-- Generated from src/errors.ts and src/ui/i18n.ts by \`npm run docs:config\`. Do not edit by hand. -->

Every refusal carries one of these codes. The same code appears in the JSON log (\`code\`, \`reasons\`),
in \`roomguard policy explain\`, and on the page the participant sees, together with a request id
(\`X-Request-Id\` response header, \`reqId\` in the log) so a support request can be matched to its log lines.
WebSocket upgrades that are refused get the HTTP status and the code in the \`X-Roomguard-Reason\` header.

| code | HTTP | meaning | what the participant is told to do (en) |
| --- | --- | --- | --- |
`;
  for (const [code, spec] of Object.entries(ERRORS)) {
    const text = ERROR_TEXT[code as keyof typeof ERRORS].en;
    out += `| \`${code}\` | ${spec.status} | ${spec.summary} | ${text.next} |\n`;
  }
  return out;
}
