// Torn final lines: a crash (power loss) in the middle of a write can leave the last line of a segment
// or checkpoint file incomplete. Such a line was never confirmed to any caller (append resolves only
// after the whole line and its newline are fsync'ed), so it is moved aside to `<file>.torn` and cut off.
import { open, readFile } from 'node:fs/promises';

export interface FileLines {
  /** Complete lines (each ended by a newline), without the newline. */
  lines: string[];
  /** Byte offset where each complete line starts, then the offset after the last complete line. */
  offsets: number[];
  /** Bytes after the last newline (empty when the file ends with one). */
  rest: Buffer;
  size: number;
}

export async function readLines(file: string): Promise<FileLines> {
  const data = await readFile(file);
  const lines: string[] = [];
  const offsets: number[] = [];
  let start = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
    offsets.push(start);
    lines.push(data.subarray(start, i).toString('utf8'));
    start = i + 1;
  }
  offsets.push(start);
  return { lines, offsets, rest: data.subarray(start), size: data.length };
}

export interface TornTail {
  file: string;
  /** 1-based line number of the torn line. */
  line: number;
  /** Byte offset where the torn line starts (the file's size after repair). */
  offset: number;
  bytes: number;
}

function isJsonObject(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** The torn final line of a file, if any: bytes after the last newline, or a last line that is not a JSON object. */
export function tornTailOf(file: string, content: FileLines): TornTail | undefined {
  if (content.rest.length > 0) {
    return { file, line: content.lines.length + 1, offset: content.offsets[content.lines.length]!, bytes: content.rest.length };
  }
  const last = content.lines.length - 1;
  if (last >= 0 && !isJsonObject(content.lines[last]!)) {
    return { file, line: last + 1, offset: content.offsets[last]!, bytes: content.size - content.offsets[last]! };
  }
  return undefined;
}

export async function findTornTail(file: string): Promise<TornTail | undefined> {
  return tornTailOf(file, await readLines(file));
}

/** Copies a torn final line to `<file>.torn` (appending) and truncates the file before it; both fsync'ed. */
export async function repairTornTail(file: string): Promise<TornTail | undefined> {
  const content = await readLines(file);
  const torn = tornTailOf(file, content);
  if (!torn) return undefined;
  const data = await readFile(file);
  const aside = await open(`${file}.torn`, 'a', 0o640);
  try {
    await aside.writeFile(data.subarray(torn.offset));
    await aside.sync();
  } finally {
    await aside.close();
  }
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(torn.offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return torn;
}
