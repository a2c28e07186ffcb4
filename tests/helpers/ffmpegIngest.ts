import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const FFMPEG = '/usr/bin/ffmpeg';
export const FFPROBE = '/usr/bin/ffprobe';
export const hasFfmpeg = existsSync(FFMPEG) && existsSync(FFPROBE);

/** Splits a suggested command (words, "double-quoted" words) into argv. */
function splitCommand(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/**
 * Runs the server's suggested ingest command (POST /api/rooms/:id/ingest → `ffmpeg`) with every
 * input limited to `seconds` and read at its native rate, quiet, no stdin.
 */
export function runIngest(command: string, seconds: number): { child: ChildProcess; exited: Promise<string>; kill(): void } {
  const [program, ...args] = splitCommand(command);
  if (program !== 'ffmpeg') throw new Error(`not an ffmpeg command: ${command}`);
  const argv: string[] = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-re') continue;
    if (args[i] === '-f' && args[i + 1] === 'lavfi') argv.push('-re', '-t', String(seconds));
    argv.push(args[i]!);
  }
  const child = spawn(FFMPEG, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`ffmpeg exited with ${signal ?? code}: ${stderr}`)));
  return {
    child,
    exited,
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
}
