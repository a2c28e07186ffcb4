import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** How busy this process's event loop was over a stretch of time. */
export interface LoopBusy {
  mark(): EventLoopUtilization;
  /** Share (0–1) of the time since `mark` the loop spent working rather than waiting for I/O. */
  shareSince(mark: EventLoopUtilization): number;
}

export const eventLoopBusy: LoopBusy = {
  mark: () => performance.eventLoopUtilization(),
  shareSince: (mark) => performance.eventLoopUtilization(mark).utilization,
};
