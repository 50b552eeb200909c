import type { INodeParameters } from 'n8n-workflow';
import type { SyncWorld } from '../../support/world';
import { everythingVisible, runNode, type Credentials, type NodeRun, type RunNodeOptions } from './n8n';

/** Fast budget for tests: the simulator does not throttle unless a test asks it to. */
export const FAST = { requestsPerMinute: 60_000 };

export function credentialsOf(world: SyncWorld, overrides: { token?: string; instance?: string } = {}): Credentials {
	return {
		sprintHubApi: { baseUrl: world.sim.baseUrl, instance: overrides.instance ?? world.sim.instance, apiToken: overrides.token ?? world.sim.token },
		supabaseApi: { host: world.stack.supabaseUrl, serviceRole: world.stack.serviceRoleKey },
	};
}

/** A resource locator value typed by id. */
export function byId(value: string | number): INodeParameters {
	return { __rl: true, mode: 'id', value: String(value) };
}

/**
 * Runs the node and keeps every run, so the file can check at the end that no output, error, log
 * line or UI message of any run showed a secret.
 */
export class NodeRunner {
	readonly runs: NodeRun[] = [];

	constructor(private readonly world: SyncWorld) {}

	async run(parameters: INodeParameters, options: Partial<RunNodeOptions> & { credentials?: Credentials } = {}): Promise<NodeRun> {
		const run = await runNode({ credentials: credentialsOf(this.world), ...options, parameters });
		this.runs.push(run);
		return run;
	}

	secrets(): string[] {
		return [this.world.sim.token, this.world.stack.serviceRoleKey];
	}

	visible(): string {
		return this.runs.map(everythingVisible).join('\n');
	}
}
