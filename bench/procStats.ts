/**
 * Reads CPU time and memory of processes and cores from /proc (Linux only).
 * CPU is sampled as cumulative clock ticks; a percentage is the tick delta over a wall-clock delta.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}

/** Cumulative user+system CPU seconds of a process (all its threads), or NaN if it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clkTck;
  } catch {
    return Number.NaN;
  }
}

/** Cumulative system (kernel) CPU seconds of a process, or NaN if it is gone. */
export function processSysSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / clkTck;
  } catch {
    return Number.NaN;
  }
}

/** Cumulative CPU seconds per thread name of some processes (trailing digits dropped: libwebrtc numbers its threads). */
export function threadCpuSeconds(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '');
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / clkTck);
      } catch {
        // thread gone
      }
    }
  }
  return out;
}

/** The CPUs a process may run on (`Cpus_allowed_list`), or 'gone'. */
export function cpuAffinity(pid: number): string {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return 'gone';
  }
}

/** The processes whose parent is `pid` and whose command name is `name` (any name when unset). */
export function childPids(pid: number, name?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && (name === undefined || comm === name)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

export interface MemInfo {
  rssMb: number;
  hwmMb: number;
}

/** Current and peak resident set size of a process, in MiB (NaN if it is gone). */
export function processMemory(pid: number): MemInfo {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) : Number.NaN;
    };
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: Number.NaN, hwmMb: Number.NaN };
  }
}

export interface CoreTimes {
  /** Ticks running anything (user, system, irq, softirq), steal excluded. */
  busy: number;
  /** Ticks the hypervisor gave to another guest while this core wanted to run. */
  steal: number;
  /** Ticks in interrupt and softirq context (the loopback network stack runs largely here). */
  irq: number;
  total: number;
}

/** Cumulative busy and total ticks per core, from /proc/stat. */
export function coreTimes(): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is included in user)
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const steal = f[7] ?? 0;
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: total - idle - steal, steal, irq: (f[5] ?? 0) + (f[6] ?? 0), total };
  }
  return out;
}

/** A snapshot of CPU counters to diff against a later one. */
export interface CpuSnapshot {
  at: number;
  procs: Map<number, number>;
  cores: CoreTimes[];
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  const procs = new Map<number, number>();
  for (const pid of pids) procs.set(pid, processCpuSeconds(pid));
  return { at: performance.now(), procs, cores: coreTimes() };
}

/** CPU % of one process between two snapshots (100 = one full core). */
export function processCpuPercent(a: CpuSnapshot, b: CpuSnapshot, pid: number): number {
  const seconds = (b.at - a.at) / 1000;
  const used = (b.procs.get(pid) ?? Number.NaN) - (a.procs.get(pid) ?? Number.NaN);
  return seconds > 0 ? (used / seconds) * 100 : Number.NaN;
}

/** Busy % of one core between two snapshots. */
export function coreBusyPercent(a: CpuSnapshot, b: CpuSnapshot, core: number): number {
  const x = a.cores[core];
  const y = b.cores[core];
  if (!x || !y || y.total === x.total) return Number.NaN;
  return ((y.busy - x.busy) / (y.total - x.total)) * 100;
}

/** Interrupt + softirq % of one core between two snapshots. */
export function coreIrqPercent(a: CpuSnapshot, b: CpuSnapshot, core: number): number {
  const x = a.cores[core];
  const y = b.cores[core];
  if (!x || !y || y.total === x.total) return Number.NaN;
  return ((y.irq - x.irq) / (y.total - x.total)) * 100;
}

/** Steal % of one core between two snapshots (time the VM's core was taken away by the host). */
export function coreStealPercent(a: CpuSnapshot, b: CpuSnapshot, core: number): number {
  const x = a.cores[core];
  const y = b.cores[core];
  if (!x || !y || y.total === x.total) return Number.NaN;
  return ((y.steal - x.steal) / (y.total - x.total)) * 100;
}

/** Pins a running process (all its threads) to the given CPU list, e.g. "1". Returns false if taskset failed. */
export function pinProcess(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Gives this process and every child it starts from now on a scheduling priority. With autogroup
 * scheduling (the Linux default) a process's nice only counts within its session's group, so the
 * group's nice is set too. Returns what was applied.
 */
export function setBenchPriority(nice: number): string {
  const done: string[] = [];
  try {
    os.setPriority(nice);
    done.push(`nice ${nice}`);
  } catch {
    // not permitted
  }
  try {
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1') {
      writeFileSync('/proc/self/autogroup', String(nice));
      done.push(`autogroup nice ${nice}`);
    }
  } catch {
    // no autogroup, or not permitted
  }
  return done.join(', ') || 'not permitted';
}
