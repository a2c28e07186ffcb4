import type { ClusterRoom, LocalRoomDetail, NodeStatus } from '../../../protocol/src/index.ts';

/**
 * Every room hosted on any node, from the nodes' registry records: viewers and sockets summed over
 * the nodes that are up, each node's part (nodes that are down listed and marked, not summed), the
 * newest settings any node reports, and this node's own detail where it hosts the room. Most
 * viewers first.
 */
export function clusterRooms(nodes: readonly NodeStatus[], local: ReadonlyMap<string, LocalRoomDetail>): ClusterRoom[] {
  const rooms = new Map<string, ClusterRoom>();
  for (const node of nodes) {
    for (const entry of node.rooms) {
      let room = rooms.get(entry.roomId);
      if (room === undefined) rooms.set(entry.roomId, (room = { roomId: entry.roomId, viewers: 0, sockets: 0, settings: entry.settings, nodes: [], local: local.get(entry.roomId) ?? null }));
      room.nodes.push({ ...entry, nodeId: node.nodeId, url: node.url, down: node.down });
      if (!node.down) {
        room.viewers += entry.viewers;
        room.sockets += entry.sockets;
      }
      if (entry.settings.version > room.settings.version) room.settings = entry.settings;
    }
  }
  for (const room of rooms.values()) room.nodes.sort((a, b) => Number(a.down) - Number(b.down) || b.viewers - a.viewers || a.nodeId.localeCompare(b.nodeId));
  return [...rooms.values()].sort((a, b) => b.viewers - a.viewers || b.sockets - a.sockets || a.roomId.localeCompare(b.roomId));
}
