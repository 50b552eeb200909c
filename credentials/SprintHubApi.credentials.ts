import type { IAuthenticateGeneric, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * A SprintHub account: API base URL, instance (the account's subdomain) and API token. SprintHub
 * accepts the token as query parameter and header; production callers send both, and so do we.
 *
 * The credential test is the node's `methods.credentialTest.sprintHubApiTest` (declared with
 * `testedBy`): one cheap call whose message tells a wrong token, a wrong instance, a throttled
 * account and a wrong base URL apart. There is deliberately no declarative `test` here: n8n's
 * credentials tester uses a declarative test first and would never reach the node's.
 */
export class SprintHubApi implements ICredentialType {
	name = 'sprintHubApi';

	displayName = 'SprintHub API';

	icon = { light: 'file:sprinthub.svg', dark: 'file:sprinthub.dark.svg' } as const;

	documentationUrl = 'https://github.com/n8n-nodes-sprinthub-sync/n8n-nodes-sprinthub-sync#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://sprinthub-api-master.sprinthub.app',
			placeholder: 'https://sprinthub-api-master.sprinthub.app',
			description: 'SprintHub API address. Some accounts use https://api.sprinthub.app. The scheme may be left out.',
			required: true,
		},
		{
			displayName: 'Instance',
			name: 'instance',
			type: 'string',
			default: '',
			placeholder: 'acme',
			description: 'Your account’s subdomain: "acme" for acme.sprinthub.app. Sent as the i= parameter on every call.',
			required: true,
		},
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'The API token from SprintHub → Settings → Integrations → API',
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			qs: { i: '={{$credentials.instance}}', apitoken: '={{$credentials.apiToken}}' },
			headers: { apitoken: '={{$credentials.apiToken}}' },
		},
	};
}
