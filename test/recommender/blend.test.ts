import { describe, expect, it } from 'vitest';
import {
  BUNDLE_FORMAT,
  blendedPrediction,
  blendUser,
  deserializeBundle,
  serializeBundle,
} from '../../recommender/bundle.js';
import { backoffWeight } from '../../recommender/model/coldstart.js';
import { clampStars } from '../../recommender/model/data.js';
import { createRandom } from '../../recommender/model/random.js';
import type { Item, Rating } from '../../recommender/types.js';
import { trainedService } from '../helpers/recommender.js';

const PAIRS = 20;

/**
 * 40 items in 20 twin pairs (m0/m1, m2/m3, ...): every user gives both twins the same stars, drawn at random per user
 * and pair. The signal is purely item-item: a random 160 × 20 taste matrix is far from rank 2, so a 2-factor
 * factorization cannot carry it, while the item neighbours see each twin as the other's closest item.
 */
function twins(): { items: Item[]; ratings: Rating[] } {
  const random = createRandom(5);
  const items: Item[] = Array.from({ length: 2 * PAIRS }, (_, index) => ({
    id: `m${index}`,
    title: `Twin film ${index}`,
    description: null,
    tags: [],
    year: null,
    metadata: {},
  }));
  const ratings: Rating[] = [];
  for (let user = 0; user < 160; user++) {
    for (let pair = 0; pair < PAIRS; pair++) {
      const stars = 1 + random.integer(5);
      for (const item of [2 * pair, 2 * pair + 1]) {
        if (random.next() < 0.7)
          ratings.push({
            userId: `u${user}`,
            itemId: `m${item}`,
            stars,
            at: new Date(1_700_000_000_000 + ratings.length),
            source: 'explicit',
          });
      }
    }
  }
  return { items, ratings };
}

const trained = () => trainedService(twins(), { factors: 2, personas: 2 });

/** The same bytes with the header rewritten by `edit` (arrays untouched). */
function rewriteHeader(bytes: Buffer, edit: (header: Record<string, unknown>) => void): Buffer {
  const length = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + length).toString()) as Record<string, unknown>;
  edit(header);
  const arrays = bytes.subarray(Math.ceil((length + 4) / 4) * 4);
  const headerBytes = Buffer.from(JSON.stringify(header));
  const padded = Math.ceil((headerBytes.length + 4) / 4) * 4;
  const output = Buffer.alloc(padded + arrays.length);
  output.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(output, 4);
  arrays.copy(output, padded);
  return output;
}

describe('the learned blend in the trained bundle', { timeout: 60_000 }, () => {
  it('keeps the item-neighbour model and the blend weights through serialization', async () => {
    const { service } = await trained();
    const bundle = deserializeBundle((await service.storage.latestModel())!.model);
    const blend = bundle.blend!;
    expect(blend).not.toBeNull();
    expect(blend.weights).toHaveLength(10);
    // The twins are each other's most similar items.
    const items = bundle.itemIds.length;
    for (let pair = 0; pair < PAIRS; pair++) {
      const row = Array.from(blend.neighbours.similarities.subarray(2 * pair * items, (2 * pair + 1) * items));
      expect(row.indexOf(Math.max(...row))).toBe(2 * pair + 1);
    }
    const again = deserializeBundle(serializeBundle(bundle));
    expect(Array.from(again.blend!.weights)).toEqual(Array.from(blend.weights));
    expect(again.blend!.neighbours.similarities).toEqual(blend.neighbours.similarities);
    expect(again.blend!.neighbours.neighbours).toBe(blend.neighbours.neighbours);
    expect(again.blend!.neighbours.biases.mean).toBe(blend.neighbours.biases.mean);
    expect(again.blend!.neighbours.biases.itemBias).toEqual(blend.neighbours.biases.itemBias);
    expect(again.blend!.itemSupport).toEqual(blend.itemSupport);
    // And the neighbour weights matter: the blend does not just reproduce the factorization.
    expect(Math.abs(blend.weights[2]!) + Math.abs(blend.weights[5]!) + Math.abs(blend.weights[7]!)).toBeGreaterThan(
      0.1,
    );
  });

  it('predicts from the neighbour part on the current ratings: rating a twin moves the other at once', async () => {
    const { service } = await trained();
    const bundle = deserializeBundle((await service.storage.latestModel())!.model);
    const random = createRandom(9);
    const given = Array.from({ length: PAIRS }, () => 1 + random.integer(5));
    for (let pair = 0; pair < PAIRS; pair++) await service.rate('newcomer', `m${2 * pair}`, given[pair]!);
    const ratings = given.map((stars, pair) => ({ item: 2 * pair, stars }));
    const vector = bundle.factorization.foldIn(ratings);
    const personaWeights = bundle.personas.assign(ratings);
    const share = backoffWeight(ratings.length);
    let serviceError = 0;
    let factorizationError = 0;
    for (let pair = 0; pair < PAIRS; pair++) {
      const twin = 2 * pair + 1;
      const prediction = await service.predict('newcomer', `m${twin}`);
      serviceError += (prediction.predicted - given[pair]!) ** 2;
      // What predictFor gave before the blend: SVD++ fold-in backed off to the persona.
      const plain = clampStars(
        share * bundle.factorization.rawFor(vector, twin) + (1 - share) * bundle.personas.raw(personaWeights, twin),
      );
      factorizationError += (plain - given[pair]!) ** 2;
      // The service uses exactly the blend (no content, no memory here).
      const user = blendUser(bundle.blend!, ratings);
      const blended = blendedPrediction(
        { factorization: bundle.factorization, blend: bundle.blend! },
        user,
        vector,
        twin,
      ).stars;
      expect(prediction.predicted).toBeCloseTo(
        clampStars(share * blended + (1 - share) * bundle.personas.raw(personaWeights, twin)),
        1,
      );
    }
    const serviceRmse = Math.sqrt(serviceError / PAIRS);
    const factorizationRmse = Math.sqrt(factorizationError / PAIRS);
    expect(serviceRmse).toBeLessThan(0.75 * factorizationRmse);

    // A new rating counts without retraining: flip the newcomer's view of m0 and its twin follows.
    await service.rate('newcomer', 'm0', 5);
    const high = (await service.predict('newcomer', 'm1')).predicted;
    await service.rate('newcomer', 'm0', 1);
    const low = (await service.predict('newcomer', 'm1')).predicted;
    expect(high - low).toBeGreaterThan(1);
  });

  it('refuses a model stored in the older format, asking to train again', async () => {
    const { service } = await trained();
    const bytes = (await service.storage.latestModel())!.model;
    const old = rewriteHeader(bytes, (header) => {
      delete header.format;
      delete header.blend;
    });
    expect(() => deserializeBundle(old)).toThrow(/run mnemo train again/);
    expect(() => deserializeBundle(rewriteHeader(bytes, (header) => (header.format = BUNDLE_FORMAT + 1)))).toThrow(
      /run mnemo train again/,
    );
    await service.storage.saveModel(old, {});
    await expect(service.predict('u1', 'm1')).rejects.toThrow(/run mnemo train again/);
    await service.train({ factors: 2, personas: 2 });
    expect((await service.predict('u1', 'm1')).level).toBe('user');
  });
});
