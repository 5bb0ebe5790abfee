// Safe YAML parsing for admin-written files (config and policies) that keeps the line of every node,
// so validation can say `file:line: field: message`. Limits: file size and alias expansion.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';

export const MAX_YAML_BYTES = 256 * 1024;

export interface Problem {
  /** A file path, or `$ROOMGUARD_…` for a value from the environment. */
  file: string;
  /** 1-based line; absent for values that have no line (environment, flags). */
  line?: number;
  field: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where}: ${p.field || '(file)'}: ${p.message}`;
}

/** A warning: accepted, but worth changing (`file:line: field: warning: message`). */
export function formatWarning(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where}: ${p.field || '(file)'}: warning: ${p.message}`;
}

/** A parsed YAML file whose nodes can be asked for their line numbers. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineOf(node: Node | null | undefined): number;
}

/** Deeper than this, a document is refused before parsing: the parser recurses once per level. */
const MAX_NESTING = 64;

/**
 * An upper estimate of how deeply a YAML text nests, without parsing it: indentation levels (a stack of
 * increasing indents), block-sequence dashes opening on one line (`- - - x`), and open flow brackets.
 * Brackets inside quoted strings count too, which only errs on the safe side.
 */
export function nestingDepth(text: string): { levels: number; line: number } {
  const indents: number[] = [];
  let flow = 0;
  let worst = { levels: 0, line: 1 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const content = line.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    const indent = line.length - content.length;
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
    }
    const dashes = /^(?:-[ \t]+)*/.exec(content)![0].split('-').length - 1;
    let deepest = flow;
    for (const ch of content) {
      if (ch === '[' || ch === '{') deepest = Math.max(deepest, ++flow);
      else if ((ch === ']' || ch === '}') && flow > 0) flow--;
    }
    const levels = indents.length + dashes + deepest;
    if (levels > worst.levels) worst = { levels, line: i + 1 };
  }
  return worst;
}

export function parseYamlSource(file: string, text: string): { source?: YamlSource; problems: Problem[] } {
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) {
    return { problems: [{ file, line: 1, field: '', message: `file is larger than ${MAX_YAML_BYTES} bytes` }] };
  }
  const depth = nestingDepth(text);
  if (depth.levels > MAX_NESTING) {
    return { problems: [{ file, line: depth.line, field: '', message: `nested more than ${MAX_NESTING} levels deep (no roomguard file needs that; deep nesting can crash the YAML parser)` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, schema: 'core', merge: false });
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    line: lineOfOffset(e.pos[0]),
    field: '',
    message: `YAML: ${e.message.split('\n')[0]}`,
  }));
  if (problems.length > 0) return { problems };
  // Refuse alias bombs before converting: the yaml package counts expansions when converting to JS.
  try {
    doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { problems: [{ file, line: 1, field: '', message: `YAML: ${(err as Error).message}` }] };
  }
  const source: YamlSource = {
    file,
    doc,
    lineOf: (node) => (node?.range ? lineOfOffset(node.range[0]) : 1),
  };
  return { source, problems: [] };
}

export { isMap, isSeq, isScalar };
