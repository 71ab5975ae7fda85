/**
 * Layouts of a value with channels (rank ≥ 3): 'last' is neurone's [batch, ...spatial, C], 'first'
 * is ONNX's and PyTorch's [batch, C, ...spatial]. These permutations go from one to the other.
 */
export type Layout = 'last' | 'first';

/** Transpose perm taking a channels-last value of `rank` axes to channels-first. */
export const toFirst = (rank: number): number[] => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
/** Transpose perm taking a channels-first value of `rank` axes to channels-last. */
export const toLast = (rank: number): number[] => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];

/** Supported default-domain opsets and the IR version each needs. */
export const OPSETS: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
