/**
 * Bounded uniform sampling: after n offers each item was kept with probability capacity/n, in O(capacity) memory.
 *
 * Once full, the reservoir does not draw a random number per offer (Vitter's Algorithm R) but computes how many
 * offers to skip before the next one it keeps (Li's Algorithm L, 1994: the same distribution as keeping the
 * `capacity` smallest of independent uniform keys). An offer it skips costs one comparison, which is what the
 * agent's hot path needs: a template with a million messages keeps only about capacity × ln(n / capacity) of them.
 */

/** A fixed-capacity uniform sample of a stream. */
export class Reservoir<T> {
  /** items kept, at most `capacity` (write them through {@link put}) */
  items: T[] = [];
  /** offers seen so far */
  seen = 0;
  /**
   * The 1-based offer to keep next once full, for callers that test `++seen < next` before calling {@link draw}.
   * 0 while filling (every offer counts).
   */
  next = 0;
  /** Algorithm L's running threshold: the largest key of the sample; 0 until the reservoir is full */
  private w = 0;
  /** false after a merge: the threshold is no longer known, so each later offer draws as Algorithm R does */
  private skipping = true;

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
   * The caller must write the slot at once.
   */
  draw(): number {
    this.seen++;
    return this.pick();
  }

  /**
   * {@link draw} for a caller that has already counted the offer in `seen` (the hot path's `++seen < next` test):
   * the slot to write, or -1.
   */
  pick(): number {
    const k = this.capacity;
    if (k <= 0) return -1;
    if (this.items.length < k) {
      // The offer that fills the reservoir sets the first threshold.
      if (this.items.length === k - 1 && this.skipping) this.advance(true);
      return this.items.length;
    }
    if (!this.skipping) {
      const j = Math.floor(this.random() * this.seen);
      return j < k ? j : -1;
    }
    if (this.seen < this.next) return -1;
    this.advance(false);
    return Math.floor(this.random() * k);
  }

  /**
   * Moves Algorithm L's threshold on past a kept offer (`first`: the offer that filled the reservoir) and sets
   * `next` to the offer to keep after it: skipping X offers, X geometric with success probability w.
   */
  private advance(first: boolean): void {
    const k = this.capacity;
    // 1 - random() lies in (0, 1]: its logarithm is finite.
    const key = Math.exp(Math.log(1 - this.random()) / k);
    this.w = first ? key : this.w * key;
    const skip = Math.floor(Math.log(1 - this.random()) / Math.log1p(-this.w));
    // w = 1 (random() returned 0) gives -0 or NaN: the very next offer is kept.
    this.next = this.seen + (skip >= 0 ? skip : 0) + 1;
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
    // A uniform sample is all Algorithm R needs to go on from; Algorithm L's threshold is lost in the merge.
    this.skipping = false;
    this.next = 0;
  }
}
