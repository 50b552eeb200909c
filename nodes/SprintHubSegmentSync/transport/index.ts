import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';
import { SprintHubClient, supabaseUrlProblem, SyncEngine, type SprintHubEvent } from '../../../engine';
import { parameterError } from '../helpers/errors';
import { schemaOf } from '../helpers/inputs';
import type { EngineSettings, SprintHubCredential, SupabaseCredential } from '../helpers/interfaces';
import type { ExecutionSecrets } from '../helpers/secrets';

/** Reads and checks the SprintHub credential; its token joins the execution's secrets. */
export async function sprintHubCredential(
	this: IExecuteFunctions | ILoadOptionsFunctions,
	secrets: ExecutionSecrets,
	itemIndex = 0,
): Promise<SprintHubCredential> {
	const data = (await this.getCredentials('sprintHubApi', itemIndex)) as unknown as Partial<SprintHubCredential>;
	const credential = {
		baseUrl: String(data.baseUrl ?? '').trim() || 'https://sprinthub-api-master.sprinthub.app',
		instance: String(data.instance ?? '').trim(),
		apiToken: String(data.apiToken ?? '').trim(),
	};
	secrets.add(credential.apiToken);
	return credential;
}

/** Reads and checks n8n's built-in Supabase credential; its key joins the execution's secrets. */
async function supabaseCredential(this: IExecuteFunctions, secrets: ExecutionSecrets, itemIndex = 0): Promise<SupabaseCredential> {
	const data = (await this.getCredentials('supabaseApi', itemIndex)) as unknown as Partial<SupabaseCredential>;
	const credential = { host: String(data.host ?? '').trim(), serviceRole: String(data.serviceRole ?? '').trim() };
	secrets.add(credential.serviceRole);
	if (!credential.host) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			'The Supabase credential has no Host',
			'Set Host in the Supabase credential to the project URL, e.g. https://abcd.supabase.co',
		);
	}
	if (supabaseUrlProblem(credential.host)) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			`The Supabase credential’s Host "${credential.host.slice(0, 80)}" is not a project URL`,
			'Set Host in the Supabase credential to the project URL, e.g. https://abcd.supabase.co',
		);
	}
	if (!credential.serviceRole) {
		throw parameterError(
			this.getNode(),
			itemIndex,
			'The Supabase credential has no Service Role Secret',
			'Paste the project’s service role secret (Project Settings → API keys → secret key) into the Supabase credential.',
		);
	}
	return credential;
}

/** A SprintHub client for operations that only read SprintHub (no database). */
export function sprintHubClient(
	credential: SprintHubCredential,
	settings: EngineSettings = {},
	onEvent?: (event: SprintHubEvent) => void,
): SprintHubClient {
	return new SprintHubClient({
		baseUrl: credential.baseUrl,
		instance: credential.instance,
		token: credential.apiToken,
		requestsPerMinute: settings.requestsPerMinute,
		patienceMs: settings.patienceMs,
		onEvent,
	});
}

/**
 * The engines of one execution, one per distinct setting (budget rate, patience, schema), all
 * closed by `close()` at the end. The SprintHub pools and budgets stay: they are per process, shared
 * with every other execution against the same account.
 */
export class EngineProvider {
	private readonly engines = new Map<string, SyncEngine>();
	private sprintHub?: SprintHubCredential;
	private supabase?: SupabaseCredential;

	constructor(
		private readonly context: IExecuteFunctions,
		readonly secrets: ExecutionSecrets,
	) {}

	async sprintHubCredential(itemIndex: number): Promise<SprintHubCredential> {
		this.sprintHub ??= await sprintHubCredential.call(this.context, this.secrets, itemIndex);
		return this.sprintHub;
	}

	async engine(itemIndex: number, settings: EngineSettings = {}): Promise<SyncEngine> {
		// Every operation's schema passes here, also those that read the option themselves.
		if (settings.schema !== undefined) settings = { ...settings, schema: schemaOf.call(this.context, settings.schema, itemIndex) };
		const sprintHub = await this.sprintHubCredential(itemIndex);
		this.supabase ??= await supabaseCredential.call(this.context, this.secrets, itemIndex);
		const key = JSON.stringify([settings.requestsPerMinute ?? null, settings.patienceMs ?? null, settings.schema ?? null]);
		let engine = this.engines.get(key);
		if (!engine) {
			engine = new SyncEngine({
				sprinthub: {
					baseUrl: sprintHub.baseUrl,
					instance: sprintHub.instance,
					token: sprintHub.apiToken,
					requestsPerMinute: settings.requestsPerMinute,
					patienceMs: settings.patienceMs,
				},
				supabase: { url: this.supabase.host, serviceRoleKey: this.supabase.serviceRole, schema: settings.schema || undefined },
				worker: `n8n:${this.context.getExecutionId() ?? 'manual'}:${process.pid}`,
			});
			this.engines.set(key, engine);
		}
		return engine;
	}

	/** A SprintHub client alone (operations that do not touch the database). */
	async client(itemIndex: number, settings: EngineSettings = {}, onEvent?: (event: SprintHubEvent) => void): Promise<SprintHubClient> {
		return sprintHubClient(await this.sprintHubCredential(itemIndex), settings, onEvent);
	}

	async close(): Promise<void> {
		const engines = [...this.engines.values()];
		this.engines.clear();
		await Promise.all(engines.map((engine) => engine.close().catch(() => undefined)));
	}
}
