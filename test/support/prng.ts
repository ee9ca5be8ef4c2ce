/** mulberry32, the generator's seeded PRNG: a fuzz test's cases are the same on every run. */
export { prng as mulberry32 } from '../../src/generator/events';

/** A whole number in [0, n). */
export function below(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
