// Writes into a file through a shared memory mapping (Python's mmap), as some tools and databases do: the
// bytes change in the page cache that every read sees, yet no inotify event is raised and the file's
// times move only at the first write to each clean page. The test drives it step by step: each `write`
// puts bytes at an offset of the one mapping held open, and resolves once they are in.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

const WRITER = `
import mmap, sys
f = open(sys.argv[1], 'r+b')
m = mmap.mmap(f.fileno(), 0)
print('ready', flush=True)
for line in sys.stdin:
    offset, data = line.split(' ', 1)
    data = bytes.fromhex(data.strip())
    m[int(offset):int(offset) + len(data)] = data
    print('done', flush=True)
m.close()
f.close()
print('closed', flush=True)
`;

export interface MmapWriter {
  /** Writes `text` at `offset` through the mapping (the file's size never changes). */
  write(offset: number, text: string): Promise<void>;
  /** Unmaps and closes the file (no msync: the kernel writes the pages back in its own time). */
  close(): Promise<void>;
}

export async function openMmapWriter(path: string): Promise<MmapWriter> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', WRITER, path]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const expectLine = async (want: string) => {
    const { value, done } = await lines.next();
    if (done || value !== want) throw new Error(`mmap writer: expected ${want}, got ${done ? 'end' : value}; ${stderr}`);
  };
  await expectLine('ready');
  return {
    async write(offset, text) {
      child.stdin.write(`${offset} ${Buffer.from(text).toString('hex')}\n`);
      await expectLine('done');
    },
    async close() {
      child.stdin.end();
      await expectLine('closed');
    },
  };
}
