import type { DetectorPostprocess } from '../onnx/manifest.js';

/** Input smoothing that carries its state across batches; a missing reading leaves the level where it was. */
export class InputSmoother {
  private readonly state: Float64Array;
  private readonly ring: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private row = 0;
  private readonly alpha: number;

  constructor(
    private readonly width: number,
    private readonly post: DetectorPostprocess,
  ) {
    this.state = new Float64Array(width).fill(Number.NaN);
    this.alpha = 2 / (post.inputWindow + 1);
    const window = post.inputFilter === 'ewma' ? 0 : post.inputWindow;
    this.ring = new Float64Array(window * width).fill(Number.NaN);
    this.sums = new Float64Array(width);
    this.counts = new Float64Array(width);
  }

  /** Smoothed level of each input after this row's raw values (NaN until an input has had a value). */
  next(raw: ArrayLike<number>, out: Float64Array): void {
    const w = this.post.inputWindow;
    if (w <= 1) {
      for (let j = 0; j < this.width; j += 1) {
        const x = raw[j] ?? Number.NaN;
        if (!Number.isNaN(x)) this.state[j] = x;
        out[j] = this.state[j] ?? Number.NaN;
      }
    } else if (this.post.inputFilter === 'ewma') {
      for (let j = 0; j < this.width; j += 1) {
        const x = raw[j] ?? Number.NaN;
        const s = this.state[j] ?? Number.NaN;
        if (!Number.isNaN(x)) this.state[j] = Number.isNaN(s) ? x : s + this.alpha * (x - s);
        out[j] = this.state[j] ?? Number.NaN;
      }
    } else {
      const slot = this.row % w;
      for (let j = 0; j < this.width; j += 1) {
        const x = raw[j] ?? Number.NaN;
        const old = this.ring[slot * this.width + j] ?? Number.NaN;
        if (!Number.isNaN(x)) {
          this.sums[j] = (this.sums[j] ?? 0) + x;
          this.counts[j] = (this.counts[j] ?? 0) + 1;
        }
        if (this.row >= w && !Number.isNaN(old)) {
          this.sums[j] = (this.sums[j] ?? 0) - old;
          this.counts[j] = (this.counts[j] ?? 0) - 1;
        }
        this.ring[slot * this.width + j] = x;
        const c = this.counts[j] ?? 0;
        if (c > 0) this.state[j] = (this.sums[j] ?? 0) / c;
        out[j] = this.state[j] ?? Number.NaN;
      }
    }
    this.row += 1;
  }
}
