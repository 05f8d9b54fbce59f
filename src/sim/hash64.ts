/**
 * 64-bit fingerprint of an integer sequence as two independent 32-bit lanes (murmur3-style
 * mixing). Collisions are possible in principle, as in TLC and Stateright; at 64 bits the
 * chance over 10^7 states is about 3e-6.
 */
export interface Hash64 {
  hi: number;
  lo: number;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashInts(values: ArrayLike<number>, length = values.length): Hash64 {
  hashIntsInto(values, length, lanes);
  return { hi: lanes[0] >>> 0, lo: lanes[1] >>> 0 };
}

const lanes = new Int32Array(2);

/** hashInts without an object: the two lanes go to out[0] (hi) and out[1] (lo), as int32. */
export function hashIntsInto(values: ArrayLike<number>, length: number, out: Int32Array): void {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  for (let i = 0; i < length; i++) {
    const v = values[i] | 0;
    a = mix(a, v);
    b = mix(b, v ^ 0x27d4eb2f);
  }
  out[0] = finish(a, length);
  out[1] = finish(b ^ 0x165667b1, length);
}

/** 64-bit fingerprint of a string's UTF-16 code units: the same in every thread and process. */
export function hashString(s: string): Hash64 {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const v = s.charCodeAt(i);
    a = mix(a, v);
    b = mix(b, v ^ 0x27d4eb2f);
  }
  return { hi: finish(a, s.length), lo: finish(b ^ 0x165667b1, s.length) };
}
