/**
 * TLS failures of a SprintHub call in words. OpenSSL's own text ("ERR_SSL_WRONG_VERSION_NUMBER …
 * ssl3_record.c:350") tells a user nothing; what it means is that the address does not speak HTTPS,
 * most often a plain-HTTP server behind a Base URL written without a scheme (read as https://).
 */

/** OpenSSL's and Node's codes and texts for "the other side did not answer with TLS". */
const NOT_TLS = /ERR_SSL_WRONG_VERSION_NUMBER|wrong version number|ERR_SSL_PACKET_LENGTH_TOO_LONG|packet length too long/i;
/** The certificate could not be trusted (self-signed, expired, wrong host name, unknown issuer). */
const UNTRUSTED_CERTIFICATE =
	/DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|CERT_NOT_YET_VALID/;

export type TlsFailure = 'not_tls' | 'untrusted_certificate';

/** Which TLS failure `text` (an error message or code, or several joined) reports, if any. */
export function tlsFailureOf(text: string): TlsFailure | null {
	if (NOT_TLS.test(text)) return 'not_tls';
	if (UNTRUSTED_CERTIFICATE.test(text)) return 'untrusted_certificate';
	return null;
}

/**
 * What to tell a user about a TLS failure at `origin` (e.g. https://sprinthub.example:8443);
 * `origin` null when the caller does not know the address.
 */
export function describeTlsFailure(failure: TlsFailure, origin: string | null): string {
	const where = origin ? `The server at ${origin}` : 'The server at the SprintHub Base URL';
	if (failure === 'not_tls') {
		const plain = origin ? origin.replace(/^https:/i, 'http:') : 'http://…';
		return `${where} does not speak HTTPS. If it is meant to be plain HTTP, write the Base URL with http:// (${plain}); a Base URL without a scheme is read as https://.`;
	}
	return `${where} answered with an HTTPS certificate this machine does not trust (self-signed, expired or for another host name). Check the Base URL; SprintHub's own addresses have valid certificates.`;
}
