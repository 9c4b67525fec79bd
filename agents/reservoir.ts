/**
 * Bounded uniform sampling (Vitter's Algorithm R): after n offers each item was
 * kept with probability capacity/n, in O(capacity) memory.
 */

/** A fixed-capacity uniform sample of a stream. */
export class Reservoir<T> {
  /** items kept, at most `capacity` (write them through {@link put}) */
  items: T[] = [];
  /** offers seen so far */
  seen = 0;

  /** Creates an empty reservoir; `random` returns a float in [0, 1) and is injectable for tests. */
  constructor(
    readonly capacity: number,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Offers the next stream element; `make` is called only when the element is
   * kept, so the caller copies a payload only when it is sampled. Returns the
   * replaced item (if any) so the caller can release its budget, or
   * `undefined` when nothing was replaced; `kept` tells whether it was kept.
   */
  offer(make: () => T): { kept: boolean; evicted?: T } {
    const j = this.draw();
    if (j < 0) return { kept: false };
    const evicted = this.items[j];
    this.put(j, make());
    return evicted === undefined ? { kept: true } : { kept: true, evicted };
  }

  /**
   * Offers the next stream element without allocating: the slot of `items` to
   * write it to (`items.length` while filling), or -1 when it is not kept.
   * Same draws as {@link offer}; the caller must write the slot at once.
   */
  draw(): number {
    this.seen++;
    if (this.capacity <= 0) return -1;
    if (this.items.length < this.capacity) return this.items.length;
    const j = Math.floor(this.random() * this.seen);
    return j >= this.capacity ? -1 : j;
  }

  /**
   * Writes an item to a slot {@link draw} returned. While filling, the items grow by exactly one:
   * a push would reserve room for 17, and thousands of templates each hold a reservoir.
   */
  put(j: number, item: T): void {
    if (j < this.items.length) this.items[j] = item;
    else this.items = this.items.concat([item]);
  }

  /** Folds another reservoir in so the result is a uniform sample of both streams combined. */
  merge(other: Reservoir<T>): void {
    const total = this.seen + other.seen;
    if (total === 0) return;
    const mine = [...this.items];
    const theirs = [...other.items];
    const out: T[] = [];
    // Draw from each side in proportion to how many elements it stands for.
    while (out.length < this.capacity && (mine.length || theirs.length)) {
      const pickMine = theirs.length === 0 || (mine.length > 0 && this.random() * total < this.seen);
      const from = pickMine ? mine : theirs;
      out.push(from.splice(Math.floor(this.random() * from.length), 1)[0]!);
    }
    this.items = out;
    this.seen = total;
  }
}
