import type { INodeProperties } from 'n8n-workflow';

/**
 * The segment picker: a searchable list of the account's segments, or ids typed / from an expression.
 * Labelled "Segment" even where several are allowed: the list picks one ("Select a segment..."), and
 * the By ID(s) mode says that it takes several.
 */
export function segmentLocator(options: {
	multiple: boolean;
	description: string;
}): INodeProperties {
	return {
		displayName: 'Segment',
		name: 'segment',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: options.description,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a segment...',
				typeOptions: { searchListMethod: 'searchSegments', searchable: true },
			},
			{
				displayName: options.multiple ? 'By ID(s)' : 'By ID',
				name: 'id',
				type: 'string',
				placeholder: options.multiple ? '101, 102' : '101',
				validation: [
					{
						type: 'regex',
						properties: {
							regex: options.multiple ? '^\\s*\\d+(\\s*[,;\\s]\\s*\\d+)*\\s*$' : '^\\s*\\d+\\s*$',
							errorMessage: options.multiple
								? 'Enter segment ids (numbers) separated by commas'
								: 'Enter a segment id (a number)',
						},
					},
				],
			},
		],
	};
}

/** The Database Schema option of every operation that touches the database. */
export const schemaOptionProperty: INodeProperties = {
	displayName: 'Database Schema',
	name: 'schema',
	type: 'string',
	default: 'public',
	description:
		'Schema holding the sync tables; it must be exposed in Supabase → Project Settings → Data API',
};

export const requestsPerMinuteOption: INodeProperties = {
	displayName: 'Requests Per Minute',
	name: 'requestsPerMinute',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: 80,
	description:
		"SprintHub calls per minute for this run. Every process syncing into the same database (n8n main, queue-mode workers, the command line) shares one budget per account; when the account's rate is set (Account → Set Rate), this can only lower it. SprintHub allows about 100; the budget slows down by itself when SprintHub throttles.",
};

export const patienceOption: INodeProperties = {
	displayName: 'Throttling Patience (Minutes)',
	name: 'patienceMinutes',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: 1440 },
	default: 10,
	description:
		'How long to wait out SprintHub throttling before stopping. A sync that stops this way keeps its place and ends as rate_limited; the next run resumes there.',
};

/** Sync and Sync Due: how long a run rides out the database's bad minutes. */
export const databasePatienceOption: INodeProperties = {
	displayName: 'Database Patience (Seconds)',
	name: 'databasePatienceSeconds',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: 120,
	description:
		'How long each database call of a sync retries when Supabase answers 5xx, drops the connection or times out. Past it the run fails, keeps its place, and the next run resumes there.',
};

/** Get Leads and Get Many: n8n's usual Return All / Limit pair. */
export const returnAllAndLimit: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
];

/** Sync and Sync Due: how many segments run at once under the account's one budget. */
export const parallelSegmentsOption: INodeProperties = {
	displayName: 'Parallel Segments',
	name: 'parallel',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: 2,
	description: 'Segments synced at once; they share the requests per minute',
};

/** The options of Sync and Sync Due, sorted by display name. */
export function syncOptions(extra: INodeProperties[]): INodeProperties {
	const options: INodeProperties[] = [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 500,
			description:
				'Most leads written to Supabase in one call; lower it if the database reports statement timeouts',
		},
		schemaOptionProperty,
		{
			displayName: 'Detail Concurrency',
			name: 'detailConcurrency',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 4,
			description: 'Lead detail calls in flight at once (all within the requests per minute)',
		},
		{
			displayName: 'Dry Run',
			name: 'dryRun',
			type: 'boolean',
			default: false,
			description:
				'Whether to read SprintHub and report what would change without writing anything or claiming the segment',
		},
		{
			displayName: 'Enrichment Mode',
			name: 'enrichment',
			type: 'options',
			default: 'segment',
			description: 'Which leads get a detail call (every field) on top of the cheap list pages',
			options: [
				{
					name: 'All Leads',
					value: 'all',
					description: 'Fetch every lead’s details (slow: one call per lead)',
				},
				{
					name: 'As Set for the Segment',
					value: 'segment',
					description: 'Use the segment’s enrichment_mode in sync_segments_control',
				},
				{
					name: 'Auto',
					value: 'auto',
					description:
						'Store leads from the list pages when the account’s lists carry full records (checked on a few leads), else as Changed Leads',
				},
				{
					name: 'Changed Leads',
					value: 'changed',
					description: 'Only leads that are new or changed since the last sync',
				},
				{
					name: 'None',
					value: 'none',
					description: 'No detail calls: store the fields the list pages carry',
				},
			],
		},
		{
			displayName: 'Full Refresh',
			name: 'fullRefresh',
			type: 'boolean',
			default: false,
			description:
				'Whether to fetch every lead’s details in this run whatever changed (same as Enrichment Mode: All Leads)',
		},
		...extra,
		requestsPerMinuteOption,
		patienceOption,
		databasePatienceOption,
	];
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: options.sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}