import { type CartRequest, isCartRequest, isMediaRequest, type MediaRequest, type RoomRequest } from '../../protocol/src/index.ts';
import type { Progress } from './admission/AdmissionController.ts';
import type { CommerceService } from './commerce/CommerceService.ts';
import type { MediaService } from './media/MediaService.ts';
import type { Member } from './rooms/Member.ts';
import type { RequestResult, RoomService } from './rooms/RoomService.ts';

/** Serves one joined socket's request; the result becomes the `ok` reply, a throw the `err`. */
export interface RequestHandler {
  /** `progress` hears where a queued request stands (cart requests under admission control). */
  handle(member: Member, roomId: string, request: RoomRequest | CartRequest | MediaRequest, progress?: Progress): Promise<RequestResult>;
  /** A cart request's answer when it is already known without any work (sold out), else undefined. */
  answerNow(roomId: string, request: CartRequest): RequestResult | undefined;
  /** The socket left the room (closed): per-socket state elsewhere (media transports) goes. */
  left(member: Member, roomId: string): void;
}

/** Cart requests go to commerce, WebRTC signaling to media, the rest to the room layer. */
export function routeRequests(rooms: RoomService, commerce: CommerceService, media: MediaService): RequestHandler {
  return {
    handle: (member, roomId, request, progress) =>
      isCartRequest(request)
        ? commerce.handle(member.principal, roomId, request, progress)
        : isMediaRequest(request)
          ? media.handle(member, roomId, request)
          : rooms.handle(member, roomId, request),
    answerNow: (roomId, request) => commerce.answerNow(roomId, request),
    left: (member, roomId) => media.memberLeft(member, roomId),
  };
}
