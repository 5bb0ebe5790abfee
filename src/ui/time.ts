// Times as a reader reads them: in the deployment's zone (`ui.timeZone`, default the server's), with the
// zone named next to each time, so a guest in Berlin does not misread an expiry written in UTC.
import type { Lang } from './i18n.js';
import type { Frame } from './layout.js';

const LOCALE: Readonly<Record<Lang, string>> = { de: 'de-DE', en: 'en-GB' };

/** The server's own zone (the default of `ui.timeZone`). */
export function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The zone a page's times are in. */
export function zoneOf(frame: Pick<Frame, 'timeZone'>): string {
  return frame.timeZone ?? serverTimeZone();
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(lang: Lang, zone: string, kind: 'when' | 'clock' | 'stamp'): Intl.DateTimeFormat {
  const key = `${lang} ${zone} ${kind}`;
  let made = formats.get(key);
  if (!made) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'when' ? { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }
        : kind === 'clock' ? { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }
          : { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    made = new Intl.DateTimeFormat(LOCALE[lang], { ...options, timeZone: zone });
    formats.set(key, made);
  }
  return made;
}

/** `3 Dec 2026, 14:05 CET` / `3. Dez. 2026, 14:05 MEZ`: dates on participant and moderator pages. */
export function formatWhen(ms: number, lang: Lang, zone: string): string {
  return format(lang, zone, 'when').format(ms);
}

/** `14:05:09 CET`: a time later today (the end of a lock). */
export function formatClock(ms: number, lang: Lang, zone: string): string {
  return format(lang, zone, 'clock').format(ms);
}

/** `2026-12-03 14:05:09 CET`: sortable, for the reviewer's tables. */
export function formatStamp(ms: number, lang: Lang, zone: string): string {
  const parts = Object.fromEntries(format(lang, zone, 'stamp').formatToParts(ms).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

const UNITS: Readonly<Record<Lang, { minute: [string, string]; hour: [string, string]; day: [string, string] }>> = {
  en: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'], day: ['day', 'days'] },
  de: { minute: ['Minute', 'Minuten'], hour: ['Stunde', 'Stunden'], day: ['Tag', 'Tage'] },
};

/** A length of time in words, in its largest whole unit: `15 minutes`, `1 Stunde`, `90 Minuten`. */
export function formatSpan(ms: number, lang: Lang): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const [count, unit] = minutes % 1440 === 0 ? [minutes / 1440, 'day' as const] : minutes % 60 === 0 ? [minutes / 60, 'hour' as const] : [minutes, 'minute' as const];
  return `${count} ${UNITS[lang][unit][count === 1 ? 0 : 1]}`;
}
