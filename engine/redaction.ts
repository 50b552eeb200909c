/**
 * The one redaction of the project: the engine's errors, the store's errors, the node's output and
 * the command line's output all remove secrets with `redactSecrets`, so they all follow the same rules.
 */

const REDACTED = '[REDACTED]';

/** Shorter strings would shred ordinary words; real tokens and keys are long. */
const MIN_SECRET_LENGTH = 4;

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes every secret (and its URL-encoded forms) from a text, plus anything that looks like a token
 * in an `apitoken=` query parameter, an `apitoken:` header or a Bearer authorization, whatever its value.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[] = []): string {
	if (typeof text !== 'string' || text.length === 0) return text;
	let result = text;
	const forms = new Set<string>();
	for (const secret of secrets) {
		if (typeof secret !== 'string' || secret.trim().length < MIN_SECRET_LENGTH) continue;
		forms.add(secret);
		forms.add(secret.trim());
		forms.add(encodeURIComponent(secret));
		forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
	}
	// Longest first, so a secret that contains another is removed whole.
	for (const form of [...forms].sort((a, b) => b.length - a.length)) {
		result = result.replace(new RegExp(escapeRegExp(form), 'gi'), REDACTED);
	}
	result = result
		.replace(/([?&;]api_?token=)[^&#\s"'<>]+/gi, `$1${REDACTED}`)
		.replace(/(["']?api_?token["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^"',;\s}&]+/gi, `$1${REDACTED}`)
		.replace(/(bearer\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`)
		.replace(/(["']?apikey["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^"',;\s}&]+/gi, `$1${REDACTED}`);
	return result;
}
