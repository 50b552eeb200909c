import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { redactSecrets, SprintHubClient } from '../../../engine';
import { describeTlsFailure, tlsFailureOf } from '../helpers/tls';

/**
 * One cheap SprintHub call (the first segment) that tells a wrong token, a wrong instance, a
 * throttled account and an unreachable address apart, in words that say what to change.
 */
export async function sprintHubApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const data = (credential.data ?? {}) as { baseUrl?: string; instance?: string; apiToken?: string };
	const token = String(data.apiToken ?? '').trim();
	const secrets = [token];
	let client: SprintHubClient;
	try {
		client = new SprintHubClient({
			baseUrl: String(data.baseUrl ?? '').trim() || 'https://sprinthub-api-master.sprinthub.app',
			instance: String(data.instance ?? '').trim(),
			token,
			maxAttempts: 1,
			requestTimeoutMs: 20_000,
		});
	} catch (error) {
		return { status: 'Error', message: redactSecrets(error instanceof Error ? error.message : String(error), secrets) };
	}
	const result = await client.ping();
	if (result.ok) return { status: 'OK', message: `Connection successful (instance ${client.instance})` };
	const cause = (result.error as { cause?: { code?: string; message?: string } }).cause;
	const tls = tlsFailureOf([cause?.code, cause?.message, result.message].filter(Boolean).join(' '));
	if (tls) return { status: 'Error', message: redactSecrets(describeTlsFailure(tls, client.baseUrl.origin), secrets) };
	const byReason: Record<string, string> = {
		invalid_token: 'SprintHub rejected the API token: copy it again from SprintHub → Settings → Integrations → API.',
		unknown_instance: `SprintHub does not know the instance "${client.instance}": use your account’s subdomain (acme for acme.sprinthub.app).`,
		throttled:
			'The token and instance look right, but SprintHub is throttling this account right now (too many requests). Try the test again in a minute.',
		unreachable: `SprintHub could not be reached at ${client.baseUrl.display}: check the Base URL.`,
		timeout: `SprintHub at ${client.baseUrl.display} did not answer in time: check the Base URL or try again.`,
		forbidden: 'SprintHub refused access for this token: check that the token has API access.',
		not_found: `No SprintHub API at ${client.baseUrl.display}: check the Base URL (https://sprinthub-api-master.sprinthub.app or https://api.sprinthub.app).`,
	};
	const message = byReason[result.reason] ?? `The SprintHub call to ${client.baseUrl.display} failed: ${result.message} Check the Base URL (https://sprinthub-api-master.sprinthub.app or https://api.sprinthub.app).`;
	return { status: 'Error', message: redactSecrets(message, secrets) };
}
