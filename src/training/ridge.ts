/**
 * Ridge regression in closed form on standardised columns: W = (Z'Z + lambda n I)^-1 Z'Y, one solve for
 * every output column. Returns the kernel [inputs x outputs] (row-major) and zero bias: both sides are centred.
 */
export function fitRidge(z: readonly (readonly number[])[], y: readonly (readonly number[])[], lambda: number): Float32Array {
  const n = z.length;
  const d = z[0]?.length ?? 0;
  const k = y[0]?.length ?? 0;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d * k);
  for (let i = 0; i < n; i += 1) {
    const row = z[i] ?? [];
    const out = y[i] ?? [];
    for (let p = 0; p < d; p += 1) {
      const zp = row[p] ?? 0;
      if (zp === 0) continue;
      for (let q = 0; q <= p; q += 1) a[p * d + q] = (a[p * d + q] ?? 0) + zp * (row[q] ?? 0);
      for (let c = 0; c < k; c += 1) b[p * k + c] = (b[p * k + c] ?? 0) + zp * (out[c] ?? 0);
    }
  }
  for (let p = 0; p < d; p += 1) {
    for (let q = 0; q < p; q += 1) a[q * d + p] = a[p * d + q] ?? 0;
    a[p * d + p] = (a[p * d + p] ?? 0) + lambda * Math.max(1, n);
  }
  // Cholesky: A = L L' (A is symmetric positive definite thanks to the ridge term).
  const l = new Float64Array(d * d);
  for (let p = 0; p < d; p += 1) {
    for (let q = 0; q <= p; q += 1) {
      let sum = a[p * d + q] ?? 0;
      for (let r = 0; r < q; r += 1) sum -= (l[p * d + r] ?? 0) * (l[q * d + r] ?? 0);
      l[p * d + q] = p === q ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (l[q * d + q] ?? 1);
    }
  }
  const w = new Float32Array(d * k);
  const tmp = new Float64Array(d);
  const x = new Float64Array(d);
  for (let c = 0; c < k; c += 1) {
    for (let p = 0; p < d; p += 1) {
      let sum = b[p * k + c] ?? 0;
      for (let r = 0; r < p; r += 1) sum -= (l[p * d + r] ?? 0) * (tmp[r] ?? 0);
      tmp[p] = sum / (l[p * d + p] ?? 1);
    }
    for (let p = d - 1; p >= 0; p -= 1) {
      let sum = tmp[p] ?? 0;
      for (let r = p + 1; r < d; r += 1) sum -= (l[r * d + p] ?? 0) * (x[r] ?? 0);
      x[p] = sum / (l[p * d + p] ?? 1);
      w[p * k + c] = x[p] ?? 0;
    }
  }
  return w;
}
