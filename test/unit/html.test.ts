// The escaping template (src/ui/html.ts): every page is written with it, so what it lets through is
// what any page can show. Text and attribute values are escaped, SafeHtml is made by the tag only,
// and no interpolated string can open a tag or leave its attribute.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { html, join, lines, SafeHtml, type Interpolation } from '../../src/ui/html.js';

const HOSTILE = `<script>alert('x')</script>"&amp;'><img src=x onerror=alert(1)>`;

/** What a browser reads back from escaped text (the five entities the template writes). */
function unescape(markup: string): string {
  return markup.replace(/&(lt|gt|quot|#39|amp);/g, (_m, name: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[name]!);
}

/** The characters with which markup opens or closes a tag or an attribute value. */
function structure(markup: string): string {
  return markup.replace(/[^<>"']/g, '');
}

describe('html template', () => {
  it('escapes text, so a value cannot open a tag', () => {
    const out = html`<p>${HOSTILE}</p>`.toString();
    expect(out).toBe('<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;amp;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(unescape(out.slice(3, -4))).toBe(HOSTILE);
  });

  it('escapes attribute values in double and single quotes alike', () => {
    const out = html`<a href="${HOSTILE}" title='${HOSTILE}'>x</a>`.toString();
    expect(structure(out)).toBe(`<""''><>`);
    expect(out).toContain('href="&lt;script&gt;alert(&#39;x&#39;)');
    expect(out).toContain("title='&lt;script&gt;alert(&#39;x&#39;)");
  });

  it('keeps nested SafeHtml as markup and escapes the text inside it once', () => {
    const inner = html`<strong>${'a < b'}</strong>`;
    expect(html`<p>${inner} and ${'<em>'}</p>`.toString()).toBe('<p><strong>a &lt; b</strong> and &lt;em&gt;</p>');
  });

  it('joins arrays item by item, escaping strings and keeping fragments', () => {
    expect(html`<ul>${['<a>', html`<li>b</li>`, ['c', 1]]}</ul>`.toString()).toBe('<ul>&lt;a&gt;<li>b</li>c1</ul>');
    expect(join(['a&b', html`<i>c</i>`], html`<br>`).toString()).toBe('a&amp;b<br><i>c</i>');
    expect(join(['a', 'b'], '<>').toString()).toBe('a&lt;&gt;b');
    expect(lines('one\n<two>').toString()).toBe('one<br>&lt;two&gt;');
  });

  it('renders false, null, undefined and the empty string as nothing, and numbers as text', () => {
    expect(html`[${false}${null}${undefined}${''}${0}${2.5}]`.toString()).toBe('[02.5]');
  });

  it('takes only fixed markup inside a tag, where even escaped text could add an attribute', () => {
    expect(html`<input${html` required`} name="n">`.toString()).toBe('<input required name="n">');
    expect(html`<input${false && html` required`}>`.toString()).toBe('<input>');
    expect(() => html`<img src="x" ${'onerror=alert(1)'}>`).toThrow(TypeError);
    expect(() => html`<input value=${'x onfocus=alert(1)'}>`).toThrow(TypeError);
    expect(() => html`<input ${html`${'onerror=alert(1)'}`}>`).toThrow(TypeError);
    expect(() => html`<input ${join(['onerror=alert(1)'])}>`).toThrow(TypeError);
  });

  it('refuses markup inside an attribute value', () => {
    expect(() => html`<a title="${html`<b>x</b>`}">`).toThrow(TypeError);
  });

  it('never makes SafeHtml out of a string or a look-alike', () => {
    // @ts-expect-error a string is not SafeHtml
    const typed: SafeHtml = '<b>x</b>';
    expect(typed).toBe('<b>x</b>');
    // @ts-expect-error nor is an object with the same surface
    const lookalike: SafeHtml = { toString: () => '<b>x</b>' };
    expect(() => html`<p>${lookalike}</p>`).toThrow(TypeError);
    expect(() => html`<p>${{ ...html`<b>x</b>` } as unknown as SafeHtml}</p>`).toThrow(TypeError);
    expect(() => new (SafeHtml as unknown as new (mint: symbol, markup: string) => SafeHtml)(Symbol('roomguard SafeHtml'), '<b>x</b>')).toThrow(TypeError);
    // Called as a function with a hand-made array instead of as a tag.
    expect(() => html(['<b>x</b>'] as unknown as TemplateStringsArray)).toThrow(TypeError);
    expect(() => html(Object.assign(['<b>x</b>'], { raw: ['<b>x</b>'] }) as unknown as TemplateStringsArray)).toThrow(TypeError);
    expect(() => html`<p>${true as unknown as Interpolation}</p>`).toThrow(TypeError);
  });

  it('lets no interpolated string open a tag or leave its attribute, however it is nested (property)', () => {
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[<>"'&=/ a-z;#]*$/), fc.constantFrom(HOSTILE, '"', "'", '</p>', '&quot;', '-->'));
    fc.assert(fc.property(text, text, fc.array(text, { maxLength: 4 }), (a, b, list) => {
      const out = html`<p class="${a}" data-x='${b}'>${a}${html`<em title="${b}">${a}</em>`}${list}${join(list, html`<br>`)}</p>`.toString();
      // Only the template's own characters structure the page: the values add none of < > " '.
      expect(structure(out)).toBe(`<""''><""><>${'<>'.repeat(Math.max(0, list.length - 1))}<>`);
      // And every value reads back exactly as it was given.
      expect(unescape(out)).toBe(`<p class="${a}" data-x='${b}'>${a}<em title="${b}">${a}</em>${list.join('')}${list.join('<br>')}</p>`);
    }), { numRuns: 500 });
  });

  it('is the only place that escapes: no page or module escapes by hand', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = joinPath(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && path !== joinPath('src', 'ui', 'html.ts')) {
          const source = readFileSync(path, 'utf8');
          if (/escapeHtml\(|replace\(\/\[&<>|&lt;|&quot;|&#39;/.test(source)) offenders.push(path);
        }
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});
