// The one way roomguard writes HTML: the tagged template `html` escapes every interpolated value unless
// it is SafeHtml, and only this tag makes SafeHtml — no string turns into markup by accident. Pages are
// built from nested `html` fragments; nothing outside this module escapes by hand.
//
// The tag also knows where each value lands. Text and quoted attribute values get the value escaped
// (markup inside an attribute value is refused). A place inside a tag but outside quotes (`<input ${…}>`,
// `value=${…}`) takes only fixed markup such as html` required`: there even escaped text could add an
// attribute (`onerror=…`) without a single special character.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML text and for quoted attribute values (`"` and `'` alike). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Proof of construction: SafeHtml's constructor refuses to run without it. */
const MINT = Symbol('roomguard SafeHtml');

/** Markup that came out of the `html` tag (or `join`). Nominal: no string or look-alike object is one. */
export class SafeHtml {
  readonly #markup: string;

  /** Only this module can make one (MINT is not exported); anyone else gets a TypeError. */
  constructor(mint: typeof MINT, markup: string) {
    if (mint !== MINT) throw new TypeError('SafeHtml is made by the html`…` tag only');
    this.#markup = markup;
  }

  toString(): string {
    return this.#markup;
  }
}

/**
 * What may be interpolated: SafeHtml as it is; a string or number escaped; an array item by item (joined
 * without separator); `false`, `null` and `undefined` as nothing, so `${cond && html`…`}` reads naturally.
 */
export type Interpolation = SafeHtml | string | number | false | null | undefined | readonly Interpolation[];

/** Where an interpolation lands, found by reading the template's own literal text. */
type Place = 'text' | 'tag' | 'quoted';

/** SafeHtml made of the code's own literal text only, with nothing interpolated (fit to go inside a tag). */
const fixed = new WeakSet<SafeHtml>();

/** The places of a template's holes; template string arrays are cached per call site, so is this. */
const placesOf = new WeakMap<TemplateStringsArray, Place[]>();

function holePlaces(strings: TemplateStringsArray): Place[] {
  const known = placesOf.get(strings);
  if (known) return known;
  const places: Place[] = [];
  let state: 'text' | 'tag' | '"' | "'" = 'text';
  for (const [index, literal] of strings.entries()) {
    for (let i = 0; i < literal.length; i++) {
      const c = literal[i]!;
      if (state === 'text') {
        if (c === '<' && /[A-Za-z/!?]/.test(literal[i + 1] ?? '')) state = 'tag';
      } else if (state === 'tag') {
        if (c === '>') state = 'text';
        else if (c === '"' || c === "'") state = c;
      } else if (c === state) {
        state = 'tag';
      }
    }
    if (index < strings.length - 1) places.push(state === 'text' ? 'text' : state === 'tag' ? 'tag' : 'quoted');
  }
  placesOf.set(strings, places);
  return places;
}

function render(value: Interpolation, place: Place): string {
  if (value === false || value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((item: Interpolation) => render(item, place)).join('');
  if (place === 'tag' && !isFixed(value)) throw new TypeError('html`…`: inside a tag only fixed attributes (html` required`) may be interpolated; put values in quoted attribute values');
  if (value instanceof SafeHtml) {
    if (place === 'quoted') throw new TypeError('html`…`: markup cannot go inside an attribute value; interpolate text there');
    return value.toString();
  }
  if (typeof value === 'string' || typeof value === 'number') return escapeHtml(String(value));
  throw new TypeError(`html\`…\`: cannot interpolate a ${typeof value === 'object' ? 'plain object' : typeof value}`);
}

function isFixed(value: Interpolation): boolean {
  if (value === false || value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.every((item: Interpolation) => isFixed(item));
  return value instanceof SafeHtml && fixed.has(value);
}

/** A real template literal's strings array: frozen and carrying `raw` (a hand-made array is neither). */
function isTemplateStrings(strings: unknown): strings is TemplateStringsArray {
  return Array.isArray(strings) && Object.isFrozen(strings) && Array.isArray((strings as unknown as TemplateStringsArray).raw);
}

/** The tag: `html\`<p>${text}</p>\`` is SafeHtml with `text` escaped. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  if (!isTemplateStrings(strings)) throw new TypeError('html must be used as a tag: html`…`');
  const places = holePlaces(strings);
  let markup = strings[0]!;
  for (let i = 0; i < values.length; i++) markup += render(values[i], places[i]!) + strings[i + 1]!;
  const made = new SafeHtml(MINT, markup);
  if (values.every(isFixed)) fixed.add(made);
  return made;
}

/** Items in a row with a separator between them (`join(names, html\`<br>\`)`); a string separator is escaped. */
export function join(items: readonly Interpolation[], separator: SafeHtml | string = ''): SafeHtml {
  const between = render(separator, 'text');
  return new SafeHtml(MINT, items.map((item) => render(item, 'text')).join(between));
}

/** Text with its line breaks kept as `<br>` (a policy's notice as its author wrote it). */
export function lines(text: string): SafeHtml {
  return join(text.split('\n'), html`<br>`);
}
