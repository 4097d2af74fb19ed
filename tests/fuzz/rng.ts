// A small seeded PRNG (splitmix32 steps over a 32-bit state): the fuzz campaigns derive every
// random choice from a seed, so any module, argument list or mutation can be reproduced from it.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32 random bits, as an unsigned number. */
  u32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = this.u32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (r >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** A fresh generator whose stream depends on this one's seed and `salt` only. */
  fork(salt: number): Rng {
    return new Rng(Math.imul(this.state ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(salt + 1, 0x165667b1));
  }
}
