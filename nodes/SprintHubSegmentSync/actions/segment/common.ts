import type { INodeProperties } from 'n8n-workflow';

export const scheduleDescription =
	'When the segment is synced by Sync Due: a 5-field cron expression (0 6 * * * is every day at 06:00) or an interval (6 hours, 30 minutes)';

export const timezoneProperty: INodeProperties = {
	displayName: 'Timezone',
	name: 'timezone',
	type: 'string',
	default: 'UTC',
	placeholder: 'America/Sao_Paulo',
	description: 'IANA time zone the cron expression is read in',
};
