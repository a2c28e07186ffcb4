import type { NodeDirectory, NodeRecord } from './NodeDirectory.ts';

/** The registry of a single node: its own record, in process. */
export class MemoryNodeDirectory implements NodeDirectory {
  readonly #records = new Map<string, NodeRecord>();

  async put(record: NodeRecord): Promise<void> {
    this.#records.set(record.nodeId, record);
  }

  async all(): Promise<NodeRecord[]> {
    return [...this.#records.values()];
  }

  async removeStale(nodeId: string, heartbeatAt: number): Promise<void> {
    if (this.#records.get(nodeId)?.heartbeatAt === heartbeatAt) this.#records.delete(nodeId);
  }

  async remove(nodeId: string): Promise<void> {
    this.#records.delete(nodeId);
  }
}
