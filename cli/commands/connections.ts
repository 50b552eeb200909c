/**
 * The connections a command needs, built and checked before it does any work, so a wrong key, token,
 * instance or URL is one clear line instead of a failure halfway through.
 */
import { StoreError, SyncEngine, type SprintHubClient } from '../../engine';
import {
	optionalSprintHubSettings,
	requireSettings,
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

/** One cheap call that tells a wrong token, a wrong instance and an unreachable host apart. */
export async function checkSprintHub(client: SprintHubClient, settings: SprintHubSettings, context: CommandContext): Promise<void> {
	const ping = await client.ping(context.signal);
	if (ping.ok) return;
	const where = displayUrl(settings.baseUrl);
	switch (ping.reason) {
		case 'throttled':
			context.output.info('sprinthub-sync: SprintHub is throttling this account right now; the run will wait for its budget.');
			return;
		case 'invalid_token':
			throw new CliError(`SprintHub rejected the API token for instance "${settings.instance}": check SPRINTHUB_API_TOKEN (or --token).`, EXIT.usage);
		case 'unknown_instance':
			throw new CliError(`SprintHub does not know the instance "${settings.instance}": check SPRINTHUB_INSTANCE (or --instance), the account subdomain.`, EXIT.usage);
		case 'unreachable':
		case 'timeout':
			throw new CliError(`Cannot reach SprintHub at ${where}: check SPRINTHUB_BASE_URL (or --sprinthub-url) and the network.`, EXIT.failure);
		default:
			throw new CliError(`SprintHub at ${where} answered unexpectedly (${ping.message}): check SPRINTHUB_BASE_URL. ${ping.hint}`, EXIT.usage);
	}
}
