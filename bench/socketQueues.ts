/**
 * Where a backlog sits, from the kernel's view of the TCP queues (`ss`): bytes the server has not
 * read yet (the streamer's requests waiting: the server is the limit), bytes sent but not yet
 * acknowledged, and bytes the viewers have not read yet (the generators are behind).
 */
import { execFile } from 'node:child_process';

export interface QueueSnapshot {
  /** Unread bytes on the server's sockets (requests waiting for the server). */
  serverRecvQBytes: number;
  /** Unacknowledged bytes on the server's sockets. */
  serverSendQBytes: number;
  /** Unread bytes on the viewers' (and streamer's) sockets, summed. */
  clientRecvQBytes: number;
  clientSockets: number;
}

export function emptyQueues(): QueueSnapshot {
  return { serverRecvQBytes: 0, serverSendQBytes: 0, clientRecvQBytes: 0, clientSockets: 0 };
}

/** One `ss -tn` snapshot of the established connections to `port`. Resolves to null if `ss` is unavailable. */
export function socketQueues(port: number): Promise<QueueSnapshot | null> {
  return new Promise((resolve) => {
    execFile('ss', ['-tnH', 'state', 'established'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) {
        resolve(null);
        return;
      }
      const q = emptyQueues();
      const suffix = `:${port}`;
      for (const line of stdout.split('\n')) {
        // Recv-Q Send-Q Local:Port Peer:Port
        const f = line.trim().split(/\s+/);
        if (f.length < 4) continue;
        if (f[2]!.endsWith(suffix)) {
          q.serverRecvQBytes += Number(f[0]);
          q.serverSendQBytes += Number(f[1]);
        } else if (f[3]!.endsWith(suffix)) {
          q.clientRecvQBytes += Number(f[0]);
          q.clientSockets++;
        }
      }
      resolve(q);
    });
  });
}

/** Element-wise maximum. */
export function maxQueues(a: QueueSnapshot, b: QueueSnapshot | null): QueueSnapshot {
  if (!b) return a;
  return {
    serverRecvQBytes: Math.max(a.serverRecvQBytes, b.serverRecvQBytes),
    serverSendQBytes: Math.max(a.serverSendQBytes, b.serverSendQBytes),
    clientRecvQBytes: Math.max(a.clientRecvQBytes, b.clientRecvQBytes),
    clientSockets: Math.max(a.clientSockets, b.clientSockets),
  };
}
