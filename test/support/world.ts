import { closeSprintHubAccounts, SyncEngine, type SyncEngineOptions } from '../../engine';
import { rateBudgets } from '../../engine/sprinthub';
import { startSimulator, type Simulator, type SimulatorOptions } from './simulator';
import { startStack, type Stack, type StackOptions } from './stack';

/**
 * Everything a sync talks to, real where a user has something real: the database stack (Postgres +
 * PostgREST + gateway) and the SprintHub simulator, plus an engine wired to both.
 */
export interface SyncWorld {
	stack: Stack;
	sim: Simulator;
	engine(overrides?: Partial<SyncEngineOptions['sprinthub']>): SyncEngine;
	/** Registers segments in sync_segments_control, as a user would with SQL. */
	addSegments(...ids: number[]): Promise<void>;
	/** What the database holds for a segment: current member ids (ascending). */
	memberIds(segmentId: number): Promise<number[]>;
	stop(): Promise<void>;
}

/** `stackOptions.migrations: false` gives a database without the schema, for tests that install it themselves. */
export async function startSyncWorld(simOptions: SimulatorOptions = {}, stackOptions: StackOptions = {}): Promise<SyncWorld> {
	const [stack, sim] = await Promise.all([startStack(stackOptions), startSimulator({ rateLimit: null, ...simOptions })]);
	const engines: SyncEngine[] = [];
	return {
		stack,
		sim,
		engine: (overrides = {}) => {
			const engine = new SyncEngine({
				sprinthub: { baseUrl: sim.baseUrl, instance: sim.instance, token: sim.token, requestsPerMinute: 60_000, ...overrides },
				supabase: { url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey },
			});
			engines.push(engine);
			return engine;
		},
		addSegments: async (...ids) => {
			for (const id of ids) await stack.query('select sync_add_segment($1)', [id]);
		},
		memberIds: async (segmentId) =>
			(
				await stack.query<{ lead_id: string }>(
					'select lead_id from sync_segment_leads where segment_id = $1 and left_at is null order by lead_id',
					[segmentId],
				)
			).map((row) => Number(row.lead_id)),
		stop: async () => {
			await Promise.all(engines.map((engine) => engine.close()));
			await closeSprintHubAccounts();
			rateBudgets.clear();
			await Promise.all([stack.stop(), sim.close()]);
		},
	};
}

/** The simulator's truth for a segment, ascending, as the database should hold it. */
export function truthMemberIds(sim: Simulator, segmentId: number): number[] {
	return [...sim.truth.segmentMemberIds(segmentId)].sort((a, b) => a - b);
}
