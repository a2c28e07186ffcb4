import { Redis } from 'ioredis';
import type { Broker } from '../../server/src/broker/Broker.ts';
import { RedisBroker } from '../../server/src/broker/RedisBroker.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { describeBrokerContract } from './brokerContract.ts';

/** Each broker is a node; its siblings share its key prefix, so they host the same rooms. */
function redisBrokers(sequencerLeaseMs: number) {
  const prefixes = new WeakMap<Broker, string>();
  const connect = (prefix: string, ringSize: number) => {
    const broker = new RedisBroker(new Redis(REDIS_URL), { url: REDIS_URL, prefix, ringSize, retryAfterMs: 1000, sequencerLeaseMs });
    prefixes.set(broker, prefix);
    return broker;
  };
  return {
    create: async (ringSize: number) => connect(uniquePrefix('broker-contract'), ringSize),
    sibling: async (broker: Broker, ringSize: number) => connect(prefixes.get(broker)!, ringSize),
    sequencesLocally: sequencerLeaseMs > 0,
  };
}

describeBrokerContract('RedisBroker (every seq from Redis)', redisBrokers(0));
// The default configuration: the node hosting a room issues its seqs while it holds the room's lease.
describeBrokerContract('RedisBroker with a sequencer lease', redisBrokers(3000));
