/* eslint-disable n8n-nodes-base/node-filename-against-convention -- n8n's router pattern (Postgres v2) keeps the description in actions/versionDescription.ts */
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';
import * as account from './account/Account.resource';
import * as lead from './lead/Lead.resource';
import * as segment from './segment/Segment.resource';
import * as syncHealth from './syncHealth/SyncHealth.resource';

/**
 * Operations that read SprintHub only and so need no Supabase credential. Operation values are
 * unique across resources, so `operation` alone decides.
 *
 * The Supabase credential is hidden for these rather than shown for the others on purpose: n8n's
 * editor takes a parameter that a credential's `displayOptions.show` depends on, and whose every
 * value is listed there, for the node's "authentication" selector (getMainAuthField). With
 * `show: { operation: [...] }` it took Sync Health's `operation` (its one value, check, is listed) for
 * one: the SprintHub credential's list then offered Supabase credentials, only Supabase was picked
 * for a new or imported node, and both fields were labelled "Credential to connect with". `hide` is
 * not read that way.
 */
const SPRINTHUB_ONLY_OPERATIONS = ['get', 'getLeads', 'getMany'];
/** Operations that need neither SprintHub nor Supabase. */
const NO_ACCOUNT_OPERATIONS = ['checkWebhook'];

/**
 * The canvas subtitle: the operation as the node creator lists it ("Sync due segments"), not its
 * value ("syncDue: segment"). n8n's own fallback names only the first resource's operations.
 */
const actionByOperation: Record<string, string> = {};
for (const property of [...segment.description, ...lead.description, ...syncHealth.description, ...account.description]) {
	if (property.name !== 'operation') continue;
	for (const option of property.options ?? []) {
		if ('value' in option && 'action' in option && option.action) actionByOperation[String(option.value)] = option.action;
	}
}

// eslint-disable-next-line n8n-nodes-base/node-class-description-missing-subtitle -- the subtitle is built from the operations' action names (actionByOperation), which the rule cannot read
export const versionDescription: INodeTypeDescription = {
	displayName: 'SprintHub Segment Sync',
	name: 'sprintHubSegmentSync',
	icon: { light: 'file:sprinthub.svg', dark: 'file:sprinthub.dark.svg' },
	group: ['transform'],
	version: 1,
	subtitle: `={{ (${JSON.stringify(actionByOperation)})[$parameter["operation"]] || $parameter["operation"] }}`,
	description: 'Keep the leads of SprintHub segments in Supabase: incremental, throttle-aware, resumable syncs',
	defaults: { name: 'SprintHub Segment Sync' },
	usableAsTool: true,
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	documentationUrl: 'https://github.com/n8n-nodes-sprinthub-sync/n8n-nodes-sprinthub-sync#node-operations',
	credentials: [
		{
			name: 'sprintHubApi',
			displayName: 'SprintHub Account',
			required: true,
			testedBy: 'sprintHubApiTest',
			displayOptions: { hide: { operation: NO_ACCOUNT_OPERATIONS } },
		},
		{
			name: 'supabaseApi',
			displayName: 'Supabase Project (Service Role)',
			required: true,
			displayOptions: { hide: { operation: [...SPRINTHUB_ONLY_OPERATIONS, ...NO_ACCOUNT_OPERATIONS] } },
		},
		// The URL secret of the webhook workflow: the Value of the same Header Auth credential the
		// Webhook node checks, so one secret serves both kinds of sender.
		// eslint-disable-next-line n8n-nodes-base/node-class-description-credentials-name-unsuffixed -- n8n's own Header Auth credential, the one the Webhook node uses
		{ name: 'httpHeaderAuth', displayName: 'Webhook Secret', required: true, displayOptions: { show: { senderCheck: ['query'] } } },
	],
	properties: [
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: [
				{ name: 'Account', value: 'account' },
				{ name: 'Lead', value: 'lead' },
				{ name: 'Segment', value: 'segment' },
				{ name: 'Sync Health', value: 'syncHealth' },
			],
			default: 'segment',
		},
		...segment.description,
		...lead.description,
		...syncHealth.description,
		...account.description,
	],
};
