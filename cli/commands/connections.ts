/**
 * The connections a command needs, built and checked before it does any work, so a wrong key, token,
 * instance or URL is one clear line instead of a failure halfway through.
 */
import { StoreError, SyncEngine, toSyncError, type SprintHubClient, type SyncError } from '../../engine';
import {
	optionalSprintHubSettings,
	requireSettings,
	settingWithSource,
	sprintHubConfigured,
	sprintHubSettings,
	supabaseSettings,
	type SettingName,
	type SprintHubSettings,
	type SupabaseSettings,
} from '../config';
import { CliError, displayUrl, EXIT, explainStoreError, UsageError } from '../errors';
import type { CommandContext } from './context';

interface Connections {
	engine: SyncEngine;
	supabase: SupabaseSettings;
	sprinthub: SprintHubSettings | null;
}

/** Builds the engine for a command; `close` must always be awaited (it releases every socket). */
export async function withEngine<T>(
	context: CommandContext,
	needs: { sprinthub: 'required' | 'optional' | 'none'; rate?: number; patienceMs?: number },
	work: (connections: Connections) => Promise<T>,
): Promise<T> {
	const { flags, environment, output } = context;
	// Everything missing is said in one run, not one variable per attempt.
	const required: SettingName[] = ['supabaseUrl', 'supabaseKey'];
	if (needs.sprinthub === 'required' || (needs.sprinthub === 'optional' && sprintHubConfigured(flags, environment))) {
		required.unshift('sprinthubInstance', 'sprinthubToken');
	}
	requireSettings(required, flags, environment);
	const supabase = supabaseSettings(flags, environment);
	output.addSecret(supabase.serviceRoleKey);
	const keySource = settingWithSource('supabaseKey', flags, environment)?.source ?? '';
	if (keySource.startsWith('VITE_')) {
		output.info(
			`sprinthub-sync: warning: the service role key comes from ${keySource}. Bundlers such as Vite put every VITE_* variable into the browser code they build, ` +
				'and this key bypasses row level security: anyone with the page could read and change the whole database. ' +
				`Rename it to SUPABASE_SERVICE_ROLE_KEY (and rotate the key if a VITE_ build ever shipped it).`,
		);
	}
	const sprinthub =
		needs.sprinthub === 'required'
			? sprintHubSettings(flags, environment)
			: needs.sprinthub === 'optional'
				? optionalSprintHubSettings(flags, environment)
				: null;
	output.addSecret(sprinthub?.token);
	let engine: SyncEngine;
	try {
		engine = new SyncEngine({
			sprinthub: {
				baseUrl: sprinthub?.baseUrl ?? 'http://127.0.0.1',
				instance: sprinthub?.instance ?? 'unset',
				token: sprinthub?.token ?? 'unset',
				requestsPerMinute: needs.rate,
				patienceMs: needs.patienceMs,
			},
			supabase: { url: supabase.url, serviceRoleKey: supabase.serviceRoleKey, schema: supabase.schema },
		});
	} catch (error) {
		throw new UsageError(`${(error as Error).message} (SUPABASE_URL or --supabase-url)`);
	}
	try {
		return await work({ engine, supabase, sprinthub });
	} catch (error) {
		if (error instanceof StoreError) throw explainStoreError(error, supabase.url);
		throw error;
	} finally {
		await engine.close().catch(() => undefined);
	}
}

/** The pre-flight kept failing for transient reasons (SprintHub or the network): a run failure, exit 1. */
export class PreflightFailure extends CliError {
	constructor(
		message: string,
		readonly failure: SyncError,
	) {
		super(message, EXIT.failure);
	}
}

/**
 * One cheap call that tells a wrong token, a wrong instance and an unreachable host apart. A transient
 * fault (a dropped connection, truncated JSON, a 5xx) is asked again through the client's retrying
 * path, like every other call; only configuration answers exit 2.
 */
export async function checkSprintHub(client: SprintHubClient, settings: SprintHubSettings, context: CommandContext): Promise<void> {
	const ping = await client.ping(context.signal);
	if (ping.ok) return;
	if (ping.reason === 'throttled') {
		context.output.info('sprinthub-sync: SprintHub is throttling this account right now; the run will wait for its budget.');
		return;
	}
	let error: SyncError = ping.error;
	if (error.errorClass === 'transient') {
		try {
			await client.listSegments({ page: 0, limit: 1 }, context.signal);
			return;
		} catch (retried) {
			error = toSyncError(retried);
		}
	}
	const where = displayUrl(settings.baseUrl);
	if (error.code === 'invalid_token') {
		throw new CliError(`SprintHub rejected the API token for instance "${settings.instance}": check SPRINTHUB_API_TOKEN (or --token).`, EXIT.usage);
	}
	if (error.code === 'unknown_instance') {
		throw new CliError(`SprintHub does not know the instance "${settings.instance}": check SPRINTHUB_INSTANCE (or --instance), the account subdomain.`, EXIT.usage);
	}
	if (error.errorClass === 'cancelled') throw error;
	if (error.errorClass === 'configuration') {
		throw new CliError(`SprintHub at ${where} answered in a way that points at the settings (${error.message}): check SPRINTHUB_BASE_URL. ${error.hint}`, EXIT.usage);
	}
	if (error.code === 'unreachable') {
		throw new PreflightFailure(`Cannot reach SprintHub at ${where}: check SPRINTHUB_BASE_URL (or --sprinthub-url) and the network.`, error);
	}
	throw new PreflightFailure(`SprintHub at ${where} kept failing (${error.message}); nothing was synced. Run again later; nothing is lost.`, error);
}
