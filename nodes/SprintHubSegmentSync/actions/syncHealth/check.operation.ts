import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { SegmentHealth } from '../../../../engine';
import { alertsOf, type HealthThresholds } from '../../../../engine/report/alerts';
import { healthThresholds, schemaOf } from '../../helpers/inputs';
import { forEachItem } from '../../helpers/itemLoop';
import type { EngineProvider } from '../../transport';
import { schemaOptionProperty } from '../common.descriptions';

export type { AlertKind, HealthThresholds } from '../../../../engine/report/alerts';
export { alertsOf };

interface CheckOptions extends Partial<HealthThresholds> {
	channel?: string;
	includeUnchanged?: boolean;
	schema?: string;
}

const properties: INodeProperties[] = [
	{
		displayName:
			'Emits one item per segment whose alert state changed since the last check (failing, recovered, slow, low success rate, stale), so alert channels hear about changes, not every run.',
		name: 'checkNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Alert Channel',
				name: 'channel',
				type: 'string',
				default: 'default',
				description: 'Name under which the last alert state is remembered; workflows with different thresholds should use different channels',
			},
			schemaOptionProperty,
			{
				displayName: 'Include Unchanged',
				name: 'includeUnchanged',
				type: 'boolean',
				default: false,
				description: 'Whether to emit every segment, not only those whose alert state changed (for dashboards)',
			},
			{
				displayName: 'Max Consecutive Failures',
				name: 'maxConsecutiveFailures',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 5,
				description: 'A segment with more failed runs in a row than this is failing (a segment in status error always is)',
			},
			{
				displayName: 'Max Run Minutes',
				name: 'maxRunMinutes',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 10,
				description: 'A segment whose last run took longer than this is slow',
			},
			{
				displayName: 'Min Success Rate (%)',
				name: 'minSuccessRate',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: 95,
				description: 'A segment whose recent runs (last 20) succeeded less often than this is alerted',
			},
			{
				displayName: 'Stale After Hours',
				name: 'staleAfterHours',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'A segment without a successful run for longer than this is stale (0: only when it is overdue, i.e. no scheduled run happened for over an hour).',
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { resource: ['syncHealth'], operation: ['check'] } }, properties);

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[], provider: EngineProvider): Promise<INodeExecutionData[]> {
	return forEachItem.call(this, items, provider.secrets, () => 'Sync Health Check', async (itemIndex) => {
		const options = this.getNodeParameter('options', itemIndex, {}) as CheckOptions;
		const thresholds = healthThresholds.call(this, options, itemIndex);
		const engine = await provider.engine(itemIndex, { schema: schemaOf.call(this, options.schema, itemIndex) });
		// Paused segments keep their last state: pausing is deliberate, not a recovery.
		const rows = (await engine.store.health()).filter((row) => row.status !== 'paused');
		const byId = new Map(rows.map((row) => [Number(row.segment_id), row]));
		const changes = await engine.store.recordAlerts(
			rows.map((row) => ({ segment_id: Number(row.segment_id), alerts: alertsOf(row, thresholds) })),
			options.channel?.trim() || 'default',
		);
		const output: INodeExecutionData[] = [];
		for (const change of changes) {
			if (!change.changed && !options.includeUnchanged) continue;
			const row = byId.get(Number(change.segment_id))!;
			output.push({ json: provider.secrets.redactJson(alertItem(row, change.previous, change.current, change.changed)), pairedItem: { item: itemIndex } });
		}
		this.logger.info(`SprintHub Segment Sync: health checked for ${rows.length} segment(s), ${changes.filter((c) => c.changed).length} changed`, {
			node: this.getNode().name,
		});
		return output;
	});
}

function alertItem(row: SegmentHealth, previous: string[], current: string[], changed: boolean): IDataObject {
	const raised = current.filter((kind) => !previous.includes(kind));
	const cleared = previous.filter((kind) => !current.includes(kind));
	const event = !changed ? 'unchanged' : current.length === 0 ? 'recovered' : previous.length === 0 ? 'alert' : 'changed';
	const name = row.segment_name ? `${row.segment_name} (${row.segment_id})` : `segment ${row.segment_id}`;
	const message =
		event === 'recovered'
			? `${name} recovered (was ${previous.join(', ')}).`
			: event === 'unchanged'
				? `${name}: ${current.length ? current.join(', ') : 'healthy'}.`
				: `${name}: ${current.join(', ')}${raised.length ? ` (new: ${raised.join(', ')})` : ''}${cleared.length ? ` (cleared: ${cleared.join(', ')})` : ''}. Last run: ${row.last_status ?? 'none'}${row.last_message ? ` — ${row.last_message}` : ''}`;
	return {
		segmentId: Number(row.segment_id),
		segmentName: row.segment_name,
		event,
		alerts: current,
		raised,
		cleared,
		previous,
		message,
		health: row.health,
		status: row.status,
		lastStatus: row.last_status,
		lastMessage: row.last_message,
		lastErrorClass: row.last_error_class,
		lastExecution: row.last_execution,
		lastSuccessAt: row.last_success_at,
		lastDurationSeconds: row.last_duration_seconds === null ? null : Number(row.last_duration_seconds),
		consecutiveFailures: row.consecutive_failures,
		recentSuccessRate: row.recent_success_rate === null ? null : Number(row.recent_success_rate),
		recentRuns: Number(row.recent_runs),
		secondsSinceSuccess: row.seconds_since_success === null ? null : Number(row.seconds_since_success),
		members: Number(row.members),
		quarantined: Number(row.quarantined),
		nextExecution: row.next_execution,
	};
}
