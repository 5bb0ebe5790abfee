// Reads a Dockerfile into stages of instructions (continuation lines joined, comments dropped, `ARG`
// defaults before the first FROM substituted), so tests can assert what an image build would do
// without a container engine.

export interface DockerInstruction {
  keyword: string;
  /** Leading `--name=value` flags (COPY --from, --chown, …). */
  flags: Record<string, string>;
  args: string;
}

export interface DockerStage {
  name: string;
  image: string;
  instructions: DockerInstruction[];
}

export function dockerfileStages(text: string): DockerStage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const globalArgs = new Map<string, string>();
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, word = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const keyword = word.toUpperCase();
    const flags: Record<string, string> = {};
    let args = rest;
    for (let flag = /^--([\w-]+)=(\S+)\s+/.exec(args); flag; flag = /^--([\w-]+)=(\S+)\s+/.exec(args)) {
      flags[flag[1]!] = flag[2]!;
      args = args.slice(flag[0].length);
    }
    if (keyword === 'FROM') {
      const [image = '', , name] = args.replace(/\$\{(\w+)\}/g, (_m, arg: string) => globalArgs.get(arg) ?? '').split(/\s+/);
      stages.push({ name: name ?? String(stages.length), image, instructions: [] });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [name = '', value = ''] = args.split('=');
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push({ keyword, flags, args });
    }
  }
  return stages;
}
