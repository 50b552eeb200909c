/**
 * The slots a process reserved from the shared budget (sync_budget_reserve) and has not spent yet: the
 * times, in this process's clock, from which each may send one SprintHub call. Kept apart from
 * `SharedRateBudget` so the rules about them sit in one place.
 */
export class ReservedSlots {
	/** Ascending. */
	private times: number[] = [];
	readonly counts = { reserved: 0, dropped: 0, released: 0 };

	get length(): number {
		return this.times.length;
	}

	/** When the next slot is due (undefined when none is held). */
	get next(): number | undefined {
		return this.times[0];
	}

	/**
	 * The database's slots (ms after the answer's `now`, which is when it arrived here, so they can only
	 * come later than the database meant), spaced at least `spacingMs` apart (a run's own lower rate).
	 */
	add(now: number, offsetsMs: number[], spacingMs: number): void {
		let previous = this.times.length > 0 ? this.times[this.times.length - 1] : Number.NEGATIVE_INFINITY;
		for (const offset of offsetsMs) {
			previous = Math.max(now + offset, previous + spacingMs);
			this.times.push(previous);
		}
		this.counts.reserved += offsetsMs.length;
	}

	/** Spends the next slot. */
	spend(): void {
		this.times.shift();
	}

	/** The last slot is due before `until`: time to reserve more. */
	endsBefore(until: number): boolean {
		return this.times.length === 0 || this.times[this.times.length - 1] < until;
	}

	/** Keeps at most `keep` due, unspent slots (the newest): a pause or a lull cannot turn into a burst. */
	dropStale(now: number, keep: number): void {
		let due = 0;
		while (due < this.times.length && this.times[due] <= now) due++;
		if (due <= keep) return;
		this.times.splice(0, due - keep);
		this.counts.dropped += due - keep;
	}

	/** Forgets every slot (a throttle or pause): they are lost to the account. */
	dropAll(): void {
		this.counts.dropped += this.times.length;
		this.times = [];
	}

	/** Takes every slot off to give it back to the database; returns how many. */
	releaseAll(): number {
		const count = this.times.length;
		this.times = [];
		this.counts.released += count;
		return count;
	}
}
