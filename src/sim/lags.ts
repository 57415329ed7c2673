/**
 * Time constant of each of n identical first-order lags in series such that the step response
 * reaches 90 % after t90 (BSM1 sensor/actuator classes: tau = T90/3.89 for n = 2, T90/11.77 for n = 8).
 */
export function lagTimeConstant(t90: number, n: number): number {
  // Erlang-n CDF(x) = 1 - e^-x * sum_{k<n} x^k/k!; solve CDF(x) = 0.9 by bisection.
  const cdf = (x: number): number => {
    let term = 1, sum = 1;
    for (let k = 1; k < n; k++) { term *= x / k; sum += term; }
    return 1 - Math.exp(-x) * sum;
  };
  let lo = 0, hi = 10 * n + 10;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < 0.9) lo = mid; else hi = mid;
  }
  return t90 / ((lo + hi) / 2);
}
