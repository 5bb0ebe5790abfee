// Renders a Decision for people (`roomguard policy explain`) and for machines (--json). The same
// Decision drives the participant's error page and, later, the audit record.
import { ERRORS } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import type { Decision } from './types.js';

/** `before`: lines about the person put ahead of the decision (the groups as the IdP sent them and as read). */
export function explainText(decision: Decision, before: ReadonlyArray<[string, string]> = []): string {
  const lines: Array<[string, string]> = [
    ...before,
    ['room', decision.room],
    ['decision', decision.outcome],
  ];
  if (decision.policy) lines.push(['policy', `${decision.policy.file} (pattern "${decision.policy.pattern}", risk ${decision.policy.risk})`]);
  else lines.push(['policy', '(none)']);
  if (decision.rule) lines.push(['rule', `${decision.rule.kind}[${decision.rule.index}] at ${decision.policy?.file ?? '?'}:${decision.rule.line}`]);
  if (decision.role) lines.push(['role', decision.role]);
  if (decision.groupsIncomplete) lines.push(['groups', 'groups incomplete: the IdP did not send every group, so this deny rule counts as matching (fail closed)']);
  for (const reason of decision.reasons) lines.push(['reason', `${reason}: ${ERRORS[reason].summary}`]);
  if (decision.freshLogin) lines.push(['needs', 'a fresh login at the identity provider (the session was idle longer than the room allows)']);
  if (decision.notice) lines.push(['notice', 'shown on the way in, until the person acknowledges it (again after each change of the policy file)']);
  if (decision.schedule) lines.push(['schedule', scheduleText(decision.schedule)]);
  if (decision.mfa && decision.outcome === 'mfa') {
    lines.push(['needs', `a second factor (${decision.mfa.methods.join(' or ')}) no older than ${formatDuration(decision.mfa.maxAge)}`]);
  }
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  return lines.map(([k, v]) => `${(k + ':').padEnd(width + 1)}${v}`).join('\n');
}

/** A time-boxed room's state, with instants in UTC and in the schedule's own zone. */
function scheduleText(schedule: NonNullable<Decision['schedule']>): string {
  const at = (ms: number) => `${new Date(ms).toISOString()} (${new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: schedule.timeZone }).format(ms)} ${schedule.timeZone})`;
  if (schedule.open) return `open; closes at ${at(schedule.closesAt!)}, when admitted connections are closed`;
  return schedule.opensAt === undefined ? 'closed; no further times scheduled' : `closed; opens at ${at(schedule.opensAt)}`;
}

export function explainJson(decision: Decision, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, ...decision, reasonSummaries: decision.reasons.map((r) => ERRORS[r].summary) }, null, 2);
}
