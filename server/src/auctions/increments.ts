/** The increment schedule's wire schema and rules live with the protocol (clients show the next bids too). */
export { AUCTION_CENTS_MAX, INCREMENT_TIERS_MAX, type IncrementSchedule, incrementScheduleSchema, nextBids, stepAt } from '../../../protocol/src/auctions.ts';
