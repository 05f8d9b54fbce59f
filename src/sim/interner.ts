/** Maps strings to small dense integers and back. */
export class Interner<T = string> {
  private readonly ids = new Map<string, number>();
  readonly values: T[] = [];

  /** The id of `key`, registering `value` under it the first time. */
  id(key: string, value: T): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(key, id);
      this.values.push(value);
    }
    return id;
  }

  get size(): number {
    return this.values.length;
  }
}
