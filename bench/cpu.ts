// CPU time of a process, to say where a scenario's time went (which process worked how much per join).
// Linux only: /proc/<pid>/stat counts user and system time in clock ticks (10 ms on common kernels), so
// it is read around whole storms, never around single requests.
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on every Linux architecture roomguard targets

/** User + system CPU time of `pid` in ms, or undefined where /proc cannot tell (not Linux, process gone). */
export function cpuMs(pid: number): number | undefined {
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU ms each named process spent while `work` ran. */
export async function cpuDuring<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const result = await work();
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const end = cpuMs(pid);
    const start = before[name];
    if (start !== undefined && end !== undefined) cpu[name] = end - start;
  }
  return { result, cpu };
}
