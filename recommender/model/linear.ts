/**
 * Small dense linear algebra on Float64Array (row-major): enough for ridge solves, blending and EASE's inverse.
 */

/** Solves A x = b for a symmetric positive-definite A (n×n) by Cholesky; A and b are left untouched. */
export function solveSymmetric(matrix: Float64Array, rhs: Float64Array, size: number): Float64Array {
  const lower = new Float64Array(size * size);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column <= row; column++) {
      let sum = matrix[row * size + column]!;
      for (let k = 0; k < column; k++) sum -= lower[row * size + k]! * lower[column * size + k]!;
      if (row === column) {
        // A tiny floor keeps a nearly singular system (a user who rated one item) solvable.
        lower[row * size + row] = Math.sqrt(Math.max(sum, 1e-12));
      } else {
        lower[row * size + column] = sum / lower[column * size + column]!;
      }
    }
  }
  const solution = new Float64Array(size);
  for (let row = 0; row < size; row++) {
    let sum = rhs[row]!;
    for (let k = 0; k < row; k++) sum -= lower[row * size + k]! * solution[k]!;
    solution[row] = sum / lower[row * size + row]!;
  }
  for (let row = size - 1; row >= 0; row--) {
    let sum = solution[row]!;
    for (let k = row + 1; k < size; k++) sum -= lower[k * size + row]! * solution[k]!;
    solution[row] = sum / lower[row * size + row]!;
  }
  return solution;
}

/**
 * Inverts a symmetric positive-definite matrix in place by Gauss–Jordan elimination without pivoting (safe for
 * SPD matrices). n³ multiply-adds: about 5 s for n = 1,682 in Node.
 */
export function invertSymmetricInPlace(
  matrix: Float64Array,
  size: number,
  onRow?: (done: number, total: number) => void,
): void {
  const pivotRow = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const pivot = matrix[k * size + k]!;
    const kOffset = k * size;
    matrix[kOffset + k] = 1;
    for (let column = 0; column < size; column++) matrix[kOffset + column]! /= pivot;
    pivotRow.set(matrix.subarray(kOffset, kOffset + size));
    for (let row = 0; row < size; row++) {
      if (row === k) continue;
      const rowOffset = row * size;
      const factor = matrix[rowOffset + k]!;
      if (factor === 0) continue;
      matrix[rowOffset + k] = 0;
      for (let column = 0; column < size; column++) matrix[rowOffset + column]! -= factor * pivotRow[column]!;
    }
    if (onRow && k % 64 === 0) onRow(k, size);
  }
}

/** Ridge regression: the weights w minimising |X w - y|² + λ|w|² (X has `width` columns, row-major). */
export function ridgeRegression(
  features: Float64Array,
  targets: Float64Array,
  width: number,
  lambda: number,
): Float64Array {
  const rows = targets.length;
  const gram = new Float64Array(width * width);
  const moment = new Float64Array(width);
  for (let row = 0; row < rows; row++) {
    const offset = row * width;
    for (let a = 0; a < width; a++) {
      const value = features[offset + a]!;
      moment[a]! += value * targets[row]!;
      for (let b = 0; b <= a; b++) gram[a * width + b]! += value * features[offset + b]!;
    }
  }
  for (let a = 0; a < width; a++) {
    for (let b = 0; b < a; b++) gram[b * width + a] = gram[a * width + b]!;
    gram[a * width + a]! += lambda;
  }
  return solveSymmetric(gram, moment, width);
}
