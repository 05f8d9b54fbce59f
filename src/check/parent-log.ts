/** Parents of discovered states as (parent index, choice index) in growable typed arrays. */
export class ParentLog {
  private parents = new Uint32Array(1 << 16);
  private choices = new Uint16Array(1 << 16);
  size = 0;

  push(parent: number, choice: number): number {
    if (this.size === this.parents.length) {
      const p = new Uint32Array(this.size * 2);
      p.set(this.parents);
      this.parents = p;
      const c = new Uint16Array(this.size * 2);
      c.set(this.choices);
      this.choices = c;
    }
    this.parents[this.size] = parent;
    this.choices[this.size] = choice;
    return this.size++;
  }

  /** Choice indices from the root (index 0) to `index`. */
  pathTo(index: number): number[] {
    const path: number[] = [];
    while (index !== 0) {
      path.push(this.choices[index]);
      index = this.parents[index];
    }
    return path.reverse();
  }

  get bytes(): number {
    return this.parents.byteLength + this.choices.byteLength;
  }
}
