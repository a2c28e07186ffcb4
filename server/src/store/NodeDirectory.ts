import type { NodeRecord } from '../../../protocol/src/index.ts';

export type { NodeRecord };

/**
 * Where the node registry keeps each node's last record: in process on a single node, a Redis hash
 * (node id → record) shared by every node otherwise. Nodes write only their own record; any node
 * may remove a record left by a node that stopped writing it.
 */
export interface NodeDirectory {
  /** Writes (replaces) the node's record. */
  put(record: NodeRecord): Promise<void>;
  /** Every record held, in no particular order; records that cannot be read are skipped. */
  all(): Promise<NodeRecord[]>;
  /** Removes the node's record if it is still the one written at `heartbeatAt` (a node that wrote since keeps its record). */
  removeStale(nodeId: string, heartbeatAt: number): Promise<void>;
  /** Removes the node's record (the node stops). */
  remove(nodeId: string): Promise<void>;
}
