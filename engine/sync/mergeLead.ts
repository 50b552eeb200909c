/**
 * How a lead's list record (from a segment page) and its detail record (allFields=1) become the
 * one record we store.
 *
 * Rule: the detail record is the base, because it carries every field. A field the detail left
 * empty (null, undefined or '') takes the list's value when the list had one, because SprintHub's
 * detail endpoint sometimes returns null for fields its lists filled in. A field only the list
 * has is kept. Where both have a value the detail wins, even when the shapes differ (`owner` is an
 * object `{completName}` in lists and a user id in details); the list's owner name is kept as
 * `ownerName` so it is not lost.
 */
export function mergeLeadRecords(
	list: Record<string, unknown> | undefined,
	detail: Record<string, unknown> | undefined,
): Record<string, unknown> {
	if (!detail) return { ...(list ?? {}) };
	if (!list) return { ...detail };
	const merged: Record<string, unknown> = { ...detail };
	for (const [key, listValue] of Object.entries(list)) {
		if (isEmpty(merged[key]) && !isEmpty(listValue)) merged[key] = listValue;
	}
	const listOwner = list.owner;
	if (
		listOwner &&
		typeof listOwner === 'object' &&
		!Array.isArray(listOwner) &&
		typeof (listOwner as { completName?: unknown }).completName === 'string' &&
		merged.owner !== listOwner &&
		isEmpty(merged.ownerName)
	) {
		merged.ownerName = (listOwner as { completName: string }).completName;
	}
	return merged;
}

function isEmpty(value: unknown): boolean {
	return value === null || value === undefined || value === '';
}
