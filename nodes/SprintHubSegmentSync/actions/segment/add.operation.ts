import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, updateDisplayOptions } from 'n8n-workflow';
import type { AddSegmentOptions, EnrichmentMode } from '../../../../engine';
import { dateOption, numberOption } from '../../helpers/inputs';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty, segmentLocator } from '../common.descriptions';
import { scheduleDescription, timezoneProperty } from './common';
import { manageSegments } from './manage';

interface AddOptions {
	enrichment?: EnrichmentMode;
	fullRefreshDays?: number;
	maxConsecutiveFailures?: number;
	maxLeaveShare?: number;
	name?: string;
	schedule?: string;
	schema?: string;
	startAt?: string;
	timezone?: string;
	verify?: boolean;
}

const properties: INodeProperties[] = [
	segmentLocator({
		multiple: false,
		description: 'The SprintHub segment to register in sync_segments_control; adding one that is there updates the given settings',
	}),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Check in SprintHub',
				name: 'verify',
				type: 'boolean',
				default: true,
				description: 'Whether to look the segment up in SprintHub first (its name is stored, and an unknown ID is refused)',
			},
			schemaOptionProperty,
			{
				displayName: 'Enrichment Mode',
				name: 'enrichment',
				type: 'options',
				default: 'auto',
				description: 'Which leads get a detail call (every field) when the segment is synced',
				options: [
					{ name: 'All Leads', value: 'all' },
					{ name: 'Auto', value: 'auto' },
					{ name: 'Changed Leads', value: 'changed' },
					{ name: 'None', value: 'none' },
				],
			},
			{
				displayName: 'Full Refresh Days',
				name: 'fullRefreshDays',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 3650 },
				default: 30,
				description: 'Fetch a lead’s details again when they are older than this many days, changed or not (0: never)',
			},
			{
				displayName: 'Max Consecutive Failures',
				name: 'maxConsecutiveFailures',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 5,
				description: 'Failed runs in a row after which the segment goes to status error and Sync Due stops taking it',
			},
			{
				displayName: 'Max Leave Share',
				name: 'maxLeaveShare',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
				default: 0.5,
				description: 'Largest share of the segment a run may mark as having left; more is treated as a bad SprintHub answer and not applied',
			},
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
				description: 'A name for the segment in the database (default: its name in SprintHub)',
			},
			{
				displayName: 'Schedule',
				name: 'schedule',
				type: 'string',
				default: '0 6 * * *',
				description: scheduleDescription,
			},
			{
				displayName: 'Start At',
				name: 'startAt',
				type: 'dateTime',
				default: '',
				description: 'First run (default: due now)',
			},
			timezoneProperty,
		].sort((a, b) => a.displayName.localeCompare(b.displayName)) as INodeProperties[],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['segment'], operation: ['add'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return manageSegments.call(this, items, provider, 'Add', async (engine, segmentId, itemIndex) => {
		const options = this.getNodeParameter('options', itemIndex, {}) as AddOptions;
		// Checked before SprintHub is asked, so a typo costs no call.
		const fullRefreshDays = numberOption.call(this, options.fullRefreshDays, 'Full Refresh Days', itemIndex, {
			min: 0,
			max: 3650,
			integer: true,
			fix: 'Set Full Refresh Days to how old a lead’s details may get before they are fetched again, e.g. 30, or 0 for never.',
		});
		const maxLeaveShare = numberOption.call(this, options.maxLeaveShare, 'Max Leave Share', itemIndex, {
			min: 0,
			max: 1,
			fix: 'Set Max Leave Share to a share of the segment between 0 and 1, e.g. 0.5 for half.',
		});
		const maxConsecutiveFailures = numberOption.call(this, options.maxConsecutiveFailures, 'Max Consecutive Failures', itemIndex, {
			min: 1,
			max: 1000,
			integer: true,
			fix: 'Set Max Consecutive Failures to how many failed runs in a row put the segment in status error, e.g. 5.',
		});
		const startAt = dateOption.call(this, options.startAt, 'Start At', itemIndex);
		let name = options.name?.trim() || undefined;
		if (options.verify !== false) {
			const segment = await engine.sprintHub().findSegment(segmentId, this.getExecutionCancelSignal());
			if (!segment) {
				throw new NodeApiError(
					this.getNode(),
					{ segmentId, message: 'not found' },
					{
						itemIndex,
						httpCode: '404',
						message: `Segment ${segmentId} does not exist in SprintHub (instance ${(await provider.sprintHubCredential(itemIndex)).instance})`,
						description: 'Pick the segment from the list, or check its id in SprintHub → Segments. Turn off "Check in SprintHub" to add it anyway.',
					},
				);
			}
			name ??= segment.name;
		}
		const settings: AddSegmentOptions = {
			name: name ?? null,
			schedule: options.schedule?.trim() || null,
			timezone: options.timezone?.trim() || null,
			enrichmentMode: options.enrichment ?? null,
			// 0 is "never"; the database stores it as no refresh (sync_add_segment maps it).
			fullRefreshDays: fullRefreshDays ?? null,
			maxLeaveShare: maxLeaveShare ?? null,
			maxConsecutiveFailures: maxConsecutiveFailures ?? null,
			startAt: startAt ?? null,
		};
		return engine.store.addSegment(segmentId, settings);
	});
}
