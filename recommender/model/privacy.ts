/**
 * Fewest people an aggregate may describe before mnemo shows it or keeps it in a trained model (k-anonymity's k):
 * an average over 1–4 ratings, a persona's favourites from 1–4 members, or a demographic value held by 1–4 users
 * tells too much about those few people.
 */
export const MINIMUM_AGGREGATE = 5;
