/**
 * Segments overlap: when several segments of one account sync at once, the same lead (with the same
 * change marker) would be fetched once per segment. A share lets concurrent runs use one detail call
 * per lead and marker. It remembers a bounded number of recent calls (segments are read in the same
 * createDate order, so overlaps are close in time), keeping memory flat whatever the segment size.
 */
export type SharedDetail = Promise<(Record<string, unknown> & { id: number }) | null>;

export class DetailShare {
	private readonly entries = new Map<string, SharedDetail>();

	constructor(private readonly maxEntries = 5_000) {}

	get(leadId: number, marker: string | null): SharedDetail | undefined {
		return this.entries.get(keyOf(leadId, marker));
	}

	set(leadId: number, marker: string | null, detail: SharedDetail): void {
		const key = keyOf(leadId, marker);
		this.entries.set(key, detail);
		// A failed call is not shared: the next run that needs the lead tries again itself.
		detail.catch(() => {
			if (this.entries.get(key) === detail) this.entries.delete(key);
		});
		while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
	}
}

function keyOf(leadId: number, marker: string | null): string {
	return `${leadId}\u0000${marker ?? ''}`;
}
