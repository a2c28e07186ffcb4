import { type AuctionRequest, type CartRequest, type CouponRequest, type GiveawayRequest, isAuctionRequest, isCouponRequest, isGiveawayRequest, isMediaRequest, type MediaRequest, type RoomRequest } from '../../protocol/src/index.ts';
import type { CartDesk, CartReply } from './admission/CartDesk.ts';
import type { AuctionService } from './commerce/AuctionService.ts';
import type { CouponService } from './commerce/CouponService.ts';
import type { GiveawayService } from './commerce/GiveawayService.ts';
import { DomainError } from './DomainError.ts';
import type { Progress } from './admission/PositionTeller.ts';
import type { MediaService } from './media/MediaService.ts';
import type { Member } from './rooms/Member.ts';
import type { RequestResult, RoomCommands } from './rooms/RoomCommands.ts';
import type { RoomLikes } from './rooms/RoomLikes.ts';

/** Serves one joined socket's requests. */
export interface RequestHandler {
  /** A room, media, coupon, giveaway or auction request; the result becomes the `ok` reply, a throw the `err`. */
  handle(member: Member, roomId: string, request: RoomRequest | MediaRequest | CouponRequest | GiveawayRequest | AuctionRequest): Promise<RequestResult>;
  /** A cart request read at `readAt`, through the cart desk; `reply` hears its one answer. `progress` hears where a queued request stands. */
  cart(member: Member, roomId: string, request: CartRequest, reply: CartReply, readAt: number, progress?: Progress): void;
  /** `taps` likes (no reply). */
  like(member: Member, roomId: string, taps: number): void;
  /** The socket left the room (closed): per-socket state elsewhere (media transports) goes. */
  left(member: Member, roomId: string): void;
}

/** Cart requests go to the cart desk, WebRTC signaling to media, likes to the like counter, the rest to the room commands. */
export function routeRequests(commands: RoomCommands, likes: RoomLikes, desk: CartDesk, media: MediaService, coupons: CouponService, giveaways?: GiveawayService, auctions?: AuctionService): RequestHandler {
  return {
    handle: (member, roomId, request) => {
      if (isMediaRequest(request)) return media.handle(member, roomId, request);
      if (isCouponRequest(request)) return coupons.handle(member.principal, roomId, request);
      if (isGiveawayRequest(request)) return giveaways === undefined ? Promise.reject(new DomainError('GIVEAWAY_NOT_FOUND', 'giveaways are not served here')) : giveaways.handle(member.principal, roomId, request);
      if (isAuctionRequest(request)) return auctions === undefined ? Promise.reject(new DomainError('AUCTION_NOT_FOUND', 'auctions are not served here')) : auctions.handle(member.principal, roomId, request);
      return commands.handle(member, roomId, request);
    },
    like: (_member, roomId, taps) => likes.like(roomId, taps),
    cart: (member, roomId, request, reply, readAt, progress) => {
      // A socket that only follows its orders is not in the room: a `present` giveaway does not count it.
      if (request.t === 'enterGiveaway' && member.followsOrders === true && giveaways !== undefined) {
        giveaways.enterFromOutside(member.principal, roomId, request, desk).then((answer) => reply(undefined, answer), (error: unknown) => reply(error));
        return;
      }
      desk.submit(member.principal, roomId, request, reply, { arrivedAt: readAt, progress });
    },
    left: (member, roomId) => media.memberLeft(member, roomId),
  };
}
