import { LocalBroker } from '../../server/src/broker/LocalBroker.ts';
import { describeBrokerContract } from './brokerContract.ts';

// A single node: it is its own only node (no sibling) and issues every seq itself.
describeBrokerContract('LocalBroker', {
  create: async (ringSize) => new LocalBroker(ringSize),
  sequencesLocally: true,
});
