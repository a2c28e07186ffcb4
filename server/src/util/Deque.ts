/** A FIFO with O(1) push, shift and removal-from-back; grows as needed (callers bound its size). */
export class Deque<T> {
  #items: Array<T | undefined> = new Array<T | undefined>(16);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }

  /** The item `index` places from the front (0 = the front), or undefined past the end. */
  at(index: number): T | undefined {
    return index < 0 || index >= this.#size ? undefined : this.#items[(this.#head + index) % this.#items.length];
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  pop(): T | undefined {
    if (this.#size === 0) return undefined;
    const index = (this.#head + this.#size - 1) % this.#items.length;
    const item = this.#items[index];
    this.#items[index] = undefined;
    this.#size--;
    return item;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) % this.#items.length]!;
  }

  /** Keeps the items for which `keep` is true, in order. O(n). */
  filter(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (const item of this) if (keep(item)) kept.push(item);
    this.#items = new Array<T | undefined>(Math.max(16, kept.length * 2));
    kept.forEach((item, i) => (this.#items[i] = item));
    this.#head = 0;
    this.#size = kept.length;
  }

  #grow(): void {
    const items = new Array<T | undefined>(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) items[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = items;
    this.#head = 0;
  }
}
