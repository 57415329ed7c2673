/**
 * When lifecycle state is saved again: after `wallMs` of wall time or `plantMs` of plant time since the last
 * save, whichever comes first (a replay or a catch-up runs plant time faster than the wall's), so a kill -9
 * or a power cut loses at most that much.
 */
export class SaveCadence {
  private wall = Number.NEGATIVE_INFINITY;
  private plant: number | undefined;

  constructor(
    private readonly wallMs: number,
    private readonly plantMs: number,
  ) {}

  due(wallNow: number, plantTs: number | undefined): boolean {
    if (wallNow - this.wall >= this.wallMs) return true;
    return plantTs !== undefined && (this.plant === undefined || plantTs - this.plant >= this.plantMs);
  }

  saved(wallNow: number, plantTs: number | undefined): void {
    this.wall = wallNow;
    this.plant = plantTs;
  }
}
