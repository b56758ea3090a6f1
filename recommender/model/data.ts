/**
 * Ratings as parallel typed arrays over dense user and item indices (0..count-1). Every model in this folder reads
 * this shape; the service maps the database's string ids to indices and back.
 */
export interface RatingData {
  readonly userCount: number;
  readonly itemCount: number;
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** Stars, 1–5. */
  readonly stars: Float32Array;
  /** Milliseconds since the epoch (0 when unknown). */
  readonly times: Float64Array;
}

/** Compressed rows: the entries of row r are `columns[offsets[r]..offsets[r+1])` with their `values`. */
export interface SparseRows {
  readonly offsets: Int32Array;
  readonly columns: Int32Array;
  readonly values: Float32Array;
}

/** Builds RatingData from plain rows. */
export function ratingData(
  rows: ReadonlyArray<{ user: number; item: number; stars: number; time?: number }>,
  counts: { userCount: number; itemCount: number },
): RatingData {
  const users = new Int32Array(rows.length);
  const items = new Int32Array(rows.length);
  const stars = new Float32Array(rows.length);
  const times = new Float64Array(rows.length);
  rows.forEach((row, index) => {
    users[index] = row.user;
    items[index] = row.item;
    stars[index] = row.stars;
    times[index] = row.time ?? 0;
  });
  return { ...counts, users, items, stars, times };
}

/** The ratings at `indices`, in that order, over the same users and items. */
export function selectRatings(data: RatingData, indices: ArrayLike<number>): RatingData {
  const count = indices.length;
  const users = new Int32Array(count);
  const items = new Int32Array(count);
  const stars = new Float32Array(count);
  const times = new Float64Array(count);
  for (let position = 0; position < count; position++) {
    const index = indices[position]!;
    users[position] = data.users[index]!;
    items[position] = data.items[index]!;
    stars[position] = data.stars[index]!;
    times[position] = data.times[index]!;
  }
  return { userCount: data.userCount, itemCount: data.itemCount, users, items, stars, times };
}

/** Groups ratings by user (`by: 'user'`: columns are items) or by item (columns are users). */
export function groupRatings(data: RatingData, by: 'user' | 'item'): SparseRows {
  const rows = by === 'user' ? data.users : data.items;
  const columnsOf = by === 'user' ? data.items : data.users;
  const rowCount = by === 'user' ? data.userCount : data.itemCount;
  const offsets = new Int32Array(rowCount + 1);
  for (let index = 0; index < rows.length; index++) offsets[rows[index]! + 1]!++;
  for (let row = 0; row < rowCount; row++) offsets[row + 1]! += offsets[row]!;
  const cursor = offsets.slice(0, rowCount);
  const columns = new Int32Array(rows.length);
  const values = new Float32Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const position = cursor[rows[index]!]!++;
    columns[position] = columnsOf[index]!;
    values[position] = data.stars[index]!;
  }
  return { offsets, columns, values };
}

/** Mean of the stars (3 when there are none: the middle of the scale). */
export function meanStars(data: RatingData): number {
  let sum = 0;
  for (let index = 0; index < data.stars.length; index++) sum += data.stars[index]!;
  return data.stars.length === 0 ? 3 : sum / data.stars.length;
}

/** Keeps a prediction on the 1–5 star scale. */
export const clampStars = (value: number): number => (value < 1 ? 1 : Math.min(value, 5));
