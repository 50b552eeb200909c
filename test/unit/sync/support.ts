import { closeSprintHubAccounts, rateBudgets, SprintHubClient } from '../../../engine/sprinthub';
import { DatabaseCalls } from '../../../engine/sync/databaseCalls';
import { RunLease } from '../../../engine/sync/runLease';
import { RunTally } from '../../../engine/sync/runTally';
import type { Simulator } from '../../support/simulator';

/** The real SprintHub client against the simulator, with a budget that never waits. */
export function clientFor(sim: Simulator): SprintHubClient {
	return new SprintHubClient({ baseUrl: sim.baseUrl, instance: sim.instance, token: sim.token, requestsPerMinute: 600_000, maxAttempts: 1 });
}

/** The parts of a run that the pieces share, for a dry run (no run id, no lease in the database). */
export function dryRunParts(sim: Simulator, segmentId: number) {
	const tally = new RunTally();
	// No run id: the lease never calls the heartbeat.
	const lease = new RunLease({ heartbeat: async () => '' }, null, undefined);
	return { segmentId, runId: null, source: clientFor(sim), lease, signal: lease.signal, db: new DatabaseCalls(lease.signal), tally };
}

export async function closeClients(): Promise<void> {
	await closeSprintHubAccounts();
	rateBudgets.clear();
}
