// Measures two things issue 18 asks to keep small: functions longer than a limit (default 80 lines) and
// `as` casts on request input (`request.body as …`, `request.query as …`), which route schemas replace.
// Reads the source with the TypeScript compiler's parser only (no type check), so it runs in a second.
//
//   npx tsx scripts/long-functions.ts [--max 80] [--exclude src/demo] [folder or file …]   (default: src)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

export interface LongFunction { name: string; file: string; line: number; lines: number }
export interface RequestCast { file: string; line: number; text: string }

/** A function's name as a reader would look for it: its own name, the variable or property it is assigned to, or the route it handles. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) {
    const own = node.name.getText(source);
    const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return ts.isConstructorDeclaration(node) ? `${owner}constructor` : `${owner}${own}`;
  }
  if (ts.isConstructorDeclaration(node)) return ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.constructor` : 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  if (ts.isCallExpression(parent)) {
    const callee = parent.expression.getText(source);
    const first = parent.arguments[0];
    const route = first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first) || ts.isTemplateExpression(first)) ? `(${first.getText(source)})` : '(…)';
    return `${callee}${route} callback`;
  }
  return '(anonymous)';
}

/** The expression inside parentheses and non-null assertions, and the left side of `??`. */
function core(expression: ts.Expression): ts.Expression {
  let e = expression;
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
    else if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) e = e.left;
    else return e;
  }
}

/** `request.body`, `req.query`, `request.params` (and the same behind `?.`). */
function isRequestInput(expression: ts.Expression): boolean {
  const e = core(expression);
  return ts.isPropertyAccessExpression(e) && ['body', 'query', 'params'].includes(e.name.text) && ts.isIdentifier(e.expression) && /^(request|req)$/.test(e.expression.text);
}

function measure(file: string, max: number, long: LongFunction[], casts: RequestCast[]): void {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = lineOf(fn.getStart(source));
      const lines = lineOf(fn.getEnd()) - first + 1;
      if (lines > max) long.push({ name: nameOf(fn, source), file, line: first, lines });
    }
    if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && isRequestInput(node.expression)) {
      casts.push({ file, line: lineOf(node.getStart(source)), text: node.getText(source).replace(/\s+/g, ' ').slice(0, 80) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

/** Functions over `max` lines and casts on request input in the TypeScript files under `roots`. */
export function survey(roots: string[], options: { max: number; exclude: string[] }): { long: LongFunction[]; casts: RequestCast[] } {
  const long: LongFunction[] = [];
  const casts: RequestCast[] = [];
  for (const file of roots.flatMap((root) => sourceFiles(root, options.exclude))) measure(file, options.max, long, casts);
  long.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  return { long, casts };
}

function sourceFiles(path: string, exclude: string[]): string[] {
  if (exclude.some((e) => relative(e, path) === '' || !relative(e, path).startsWith('..'))) return [];
  if (statSync(path).isFile()) return /\.(ts|tsx|mts)$/.test(path) && !path.endsWith('.d.ts') ? [path] : [];
  return readdirSync(path).sort().flatMap((entry) => sourceFiles(join(path, entry), exclude));
}

function main(argv: string[]): void {
  let max = 80;
  const exclude: string[] = [];
  const roots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--max') max = Number(argv[++i]);
    else if (arg === '--exclude') exclude.push(argv[++i]!);
    else roots.push(arg);
  }
  if (!Number.isInteger(max) || max < 1) throw new Error('--max takes a whole number of lines');
  if (roots.length === 0) roots.push('src');
  if (exclude.length === 0 && roots.includes('src')) exclude.push('src/demo');
  const { long, casts } = survey(roots, { max, exclude });
  console.log(`functions over ${max} lines in ${roots.join(', ')}${exclude.length ? ` (without ${exclude.join(', ')})` : ''}: ${long.length}`);
  for (const f of long) console.log(`${String(f.lines).padStart(5)}  ${f.name}  ${f.file}:${f.line}`);
  console.log(`\n\`as\` casts on request input (request.body / .query / .params): ${casts.length}`);
  for (const c of casts) console.log(`       ${c.file}:${c.line}  ${c.text}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
