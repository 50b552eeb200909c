/**
 * Seeded, allocation-free randomness. Every generated value is a pure function of (seed, key…), so a lead can
 * be rebuilt on demand instead of being kept in memory, and two simulators with the same seed agree exactly.
 */

/** 32-bit mix of several integers (murmur3 finaliser applied per word). */
export function hash32(...words: number[]): number {
	let h = 0x9e3779b9 ^ words.length;
	for (const word of words) {
		let k = Math.imul(word | 0, 0xcc9e2d51);
		k = (k << 15) | (k >>> 17);
		k = Math.imul(k, 0x1b873593);
		h ^= k;
		h = (h << 13) | (h >>> 19);
		h = (Math.imul(h, 5) + 0xe6546b64) | 0;
		// Words above 2^32 (timestamps) still matter: fold their high part in.
		const high = Math.floor(word / 0x100000000);
		if (high !== 0) h = Math.imul(h ^ high, 0x85ebca6b);
	}
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	h = Math.imul(h, 0xc2b2ae35);
	h ^= h >>> 16;
	return h >>> 0;
}

/** A uniform number in [0, 1) for the given key. */
export function unit(...words: number[]): number {
	return hash32(...words) / 0x100000000;
}

/** Sequential generator (mulberry32) for places where a stream of draws is natural. */
export class Random {
	private state: number;

	constructor(seed: number) {
		this.state = hash32(seed) | 0;
	}

	next(): number {
		this.state = (this.state + 0x6d2b79f5) | 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
	}

	/** An integer in [min, max]. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	chance(probability: number): boolean {
		return this.next() < probability;
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}
}
