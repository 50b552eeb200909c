/**
 * The database schema name a user types (node option, CLI flag or variable, engine configuration).
 * It travels to PostgREST in the Accept-Profile/Content-Profile headers, so one rule applies at every
 * entrance: a plain Postgres identifier (letters, digits, _ and $, not starting with a digit), at most
 * 63 characters (Postgres cuts longer names, and the cut name is another schema).
 */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const MAX_IDENTIFIER_LENGTH = 63;

/** Why a schema name cannot be used, in words that say what to type instead; null when it can. */
export function schemaNameProblem(name: string): string | null {
	if (name.length > MAX_IDENTIFIER_LENGTH) {
		return `"${name.slice(0, 20)}…" is not a schema name: Postgres names are at most ${MAX_IDENTIFIER_LENGTH} characters; use the name of a schema exposed in the Supabase Data API, e.g. public.`;
	}
	if (!SCHEMA_NAME.test(name)) {
		return `"${name}" is not a schema name: use letters, digits and underscores (not starting with a digit), the name of a schema exposed in the Supabase Data API, e.g. public.`;
	}
	return null;
}
