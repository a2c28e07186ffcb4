import { type CartRequest, isCartRequest, type RoomRequest } from '../../protocol/src/index.ts';
import type { CommerceService } from './commerce/CommerceService.ts';
import type { Member } from './rooms/Member.ts';
import type { RequestResult, RoomService } from './rooms/RoomService.ts';

/** Serves one joined socket's request; the result becomes the `ok` reply, a throw the `err`. */
export interface RequestHandler {
  handle(member: Member, roomId: string, request: RoomRequest | CartRequest): Promise<RequestResult>;
}

/** Cart requests go to commerce, the rest to the room layer. */
export function routeRequests(rooms: RoomService, commerce: CommerceService): RequestHandler {
  return {
    handle: (member, roomId, request) =>
      isCartRequest(request) ? commerce.handle(member.principal, roomId, request) : rooms.handle(member, roomId, request),
  };
}
