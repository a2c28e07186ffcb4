#!/usr/bin/env node
// Checks a livecart giveaway draw from its published data, with nothing but Node (18 or later):
//
//   node verify-giveaway.mjs <draw.json | https://…/draw.json> [--entrant <your user id>]
//
// It checks that the seed is the one committed to when the giveaway opened (SHA-256(seed) equals
// the commitment), that the entrants are a sorted list of distinct ids as many as announced, and
// recomputes the winners from the seed and the list; with --entrant it also checks that that user is
// among the entrants and says whether they won. Exit code 0: the draw holds; 1: it does not (the reason is printed); 2: usage.
// The rules: docs/giveaway-verification.md in the livecart repository.
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const FORMAT = 'livecart-giveaway/1';
const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

class Failure extends Error {}

function fail(message) {
  throw new Failure(message);
}

// Block i of the stream is SHA-256(seed ‖ i as 4 bytes big-endian); numbers are read 4 bytes at a
// time, big-endian; a number below n skips u ≥ 2^32 − (2^32 mod n), then is u mod n.
function seedStream(seedHex) {
  const seed = Buffer.from(seedHex, 'hex');
  let block = Buffer.alloc(0);
  let counter = 0;
  let offset = 0;
  const next32 = () => {
    if (offset + 4 > block.length) {
      const index = Buffer.alloc(4);
      index.writeUInt32BE(counter++);
      block = createHash('sha256').update(seed).update(index).digest();
      offset = 0;
    }
    const u = block.readUInt32BE(offset);
    offset += 4;
    return u;
  };
  return (n) => {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const u = next32();
      if (u < limit) return u % n;
    }
  };
}

// The first k of a Fisher–Yates shuffle: for i = 0 … k − 1, swap entry i with entry i + (a number below n − i).
function drawWinners(seedHex, entrants, k) {
  const list = [...entrants];
  const below = seedStream(seedHex);
  const count = Math.min(k, list.length);
  for (let i = 0; i < count; i++) {
    const j = i + below(list.length - i);
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list.slice(0, count);
}

async function load(source) {
  let text;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source).catch((error) => fail(`cannot fetch ${source}: ${error.message}`));
    if (!response.ok) fail(`cannot fetch ${source}: HTTP ${response.status}`);
    text = await response.text();
  } else {
    text = await readFile(source, 'utf8').catch((error) => fail(`cannot read ${source}: ${error.message}`));
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return fail(`${source} is not JSON: ${error.message}`);
  }
}

function verify(draw) {
  if (draw === null || typeof draw !== 'object') fail('the published draw is not a JSON object');
  if (draw.format !== FORMAT) fail(`unknown format ${JSON.stringify(draw.format)} (this script checks ${FORMAT})`);
  if (typeof draw.seed !== 'string' || !HEX64.test(draw.seed)) fail('seed: not 64 lowercase hex digits');
  if (typeof draw.commitment !== 'string' || !HEX64.test(draw.commitment)) fail('commitment: not 64 lowercase hex digits');
  if (typeof draw.salt !== 'string' || !HEX.test(draw.salt)) fail('salt: not lowercase hex');
  const committed = createHash('sha256').update(Buffer.from(draw.seed, 'hex')).digest('hex');
  if (committed !== draw.commitment) fail(`the seed does not match the commitment: SHA-256(seed) is ${committed}, the commitment published at opening is ${draw.commitment}`);
  if (!Array.isArray(draw.entrants)) fail('entrants: not a list');
  draw.entrants.forEach((id, i) => {
    if (typeof id !== 'string' || !HEX64.test(id)) fail(`entrants[${i}]: not 64 lowercase hex digits`);
    if (i > 0 && !(draw.entrants[i - 1] < id)) fail(`entrants[${i}]: the list is not sorted ascending without repeats`);
  });
  if (draw.entrantsCount !== draw.entrants.length) fail(`the list has ${draw.entrants.length} entrants, the announced count is ${draw.entrantsCount}`);
  if (!Number.isSafeInteger(draw.winnersWanted) || draw.winnersWanted < 1) fail('winnersWanted: not a positive whole number');
  if (!Array.isArray(draw.winners)) fail('winners: not a list');
  const winners = drawWinners(draw.seed, draw.entrants, draw.winnersWanted);
  if (winners.length !== draw.winners.length || winners.some((id, i) => id !== draw.winners[i])) {
    fail(`the winners do not follow from the seed and the entrants:\n  published:  ${draw.winners.join(', ') || '(none)'}\n  recomputed: ${winners.join(', ') || '(none)'}`);
  }
  return winners;
}

async function main(argv) {
  const args = [...argv];
  let entrant;
  const flag = args.indexOf('--entrant');
  if (flag >= 0) {
    entrant = args[flag + 1];
    args.splice(flag, 2);
  }
  if (args.length !== 1 || (flag >= 0 && entrant === undefined)) {
    console.error('usage: node verify-giveaway.mjs <draw.json | URL> [--entrant <user id>]');
    return 2;
  }
  try {
    const draw = await load(args[0]);
    const winners = verify(draw);
    const entrantId = entrant === undefined ? undefined : createHmac('sha256', Buffer.from(draw.salt, 'hex')).update(entrant, 'utf8').digest('hex');
    if (entrantId !== undefined && !draw.entrants.includes(entrantId)) fail(`${entrant} (id ${entrantId}) is not among the entrants: if they entered, the list is not the one drawn from`);
    console.log(`OK: giveaway ${draw.giveawayId} in room ${draw.roomId}: the seed matches the commitment, and ${winners.length} winner(s) among ${draw.entrants.length} entrant(s) follow from it.`);
    winners.forEach((id, i) => console.log(`  winner ${i + 1}: ${id}`));
    if (entrantId !== undefined) console.log(`  ${entrant} (id ${entrantId}): entered, ${winners.includes(entrantId) ? 'and WON' : 'did not win'}`);
    return 0;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    console.error(`FAILED: ${error.message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
