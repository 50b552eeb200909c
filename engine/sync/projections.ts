/**
 * What a segment list page is asked to carry, and the change marker read from it: the value the
 * database compares to decide whether a lead changed since it was stored.
 */

/** Ids and change markers only: cheap pages, up to 1,000 leads each. */
export const MARKER_PROJECTION = '{total,leads{id,updatedDate}}';
/** What a list page can give when no detail call is made (enrichment "none"). */
export const LIST_PROJECTION =
	'{total,leads{id,firstname,lastname,fullname,email,phone,mobile,whatsapp,city,state,country,zipcode,company,points,owner,stage,archived,createDate,updatedDate,lastActive}}';

/** The list value the database compares to decide whether a lead changed. */
export function changeMarkerOf(lead: Record<string, unknown>): string | null {
	const value = lead.updatedDate;
	return value === null || value === undefined ? null : String(value);
}
