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

/** A parsed YAML file whose nodes can be asked for their line numbers. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineOf(node: Node | null | undefined): number;
}

export function parseYamlSource(file: string, text: string): { source?: YamlSource; problems: Problem[] } {
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) {
    return { problems: [{ file, line: 1, field: '', message: `file is larger than ${MAX_YAML_BYTES} bytes` }] };
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
