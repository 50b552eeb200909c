/**
 * Account addressing (base URL, instance, token) and the per-account connection pools of the process.
 */
import { Pool } from 'undici';
import { SyncError } from '../errors';
import { rateBudgets } from './rateBudget';

export interface NormalizedBaseUrl {
	/** scheme://host[:port] */
	origin: string;
	/** Path prefix without trailing slash ('' for none). */
	basePath: string;
	/** origin + basePath, safe to show. */
	display: string;
}

const CONFIG_HINT_BASE_URL = 'Set the base URL of the SprintHub API, e.g. https://sprinthub-api-master.sprinthub.app (the scheme may be left out).';

/** Accepts the base URL with or without scheme and with trailing slashes; drops any query or fragment. */
export function normalizeBaseUrl(input: string): NormalizedBaseUrl {
	const trimmed = typeof input === 'string' ? input.trim() : '';
	if (!trimmed) {
		throw new SyncError({ errorClass: 'configuration', code: 'missing_base_url', message: 'The SprintHub base URL is empty.', hint: CONFIG_HINT_BASE_URL });
	}
	const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed.replace(/^\/+/, '')}`;
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		throw new SyncError({
			errorClass: 'configuration',
			code: 'invalid_base_url',
			// Only the part before any query: a pasted URL may carry the token.
			message: `The SprintHub base URL "${trimmed.split(/[?#]/)[0]}" is not a valid URL.`,
			hint: CONFIG_HINT_BASE_URL,
		});
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new SyncError({
			errorClass: 'configuration',
			code: 'invalid_base_url',
			message: `The SprintHub base URL must use http or https, not ${url.protocol.replace(':', '')}.`,
			hint: CONFIG_HINT_BASE_URL,
		});
	}
	const basePath = url.pathname.replace(/\/+$/, '');
	return { origin: url.origin, basePath, display: url.origin + basePath };
}

/** The instance (account subdomain) as sent in `i=`. */
export function normalizeInstance(input: string): string {
	const instance = typeof input === 'string' ? input.trim() : '';
	if (!instance) {
		throw new SyncError({
			errorClass: 'configuration',
			code: 'missing_instance',
			message: 'The SprintHub instance is empty.',
			hint: 'Set the instance in the SprintHub credential: the account subdomain, e.g. "acme" for acme.sprinthub.app.',
		});
	}
	if (/[\s/?#&=]/.test(instance)) {
		throw new SyncError({
			errorClass: 'configuration',
			code: 'invalid_instance',
			message: `The SprintHub instance "${instance.slice(0, 60)}" contains characters an instance name cannot have.`,
			hint: 'The instance is only the account subdomain, e.g. "acme" for acme.sprinthub.app, not a URL.',
		});
	}
	return instance;
}

export function normalizeToken(input: string): string {
	const token = typeof input === 'string' ? input.trim() : '';
	if (!token) {
		throw new SyncError({
			errorClass: 'configuration',
			code: 'missing_token',
			message: 'The SprintHub API token is empty.',
			hint: 'Paste the API token of the SprintHub account into the credential.',
		});
	}
	return token;
}

/** The key of an account in this process: same base URL and instance, same budget and pool. */
export function accountKey(baseUrl: string, instance: string): string {
	return `${normalizeBaseUrl(baseUrl).display.toLowerCase()}|${normalizeInstance(instance).toLowerCase()}`;
}

export interface PoolSettings {
	connectTimeoutMs: number;
	keepAliveTimeoutMs: number;
	connections: number;
}

const pools = new Map<string, Pool>();

/** The account's keep-alive pool, created on first use with these settings. */
export function accountPool(key: string, origin: string, settings: PoolSettings): Pool {
	let pool = pools.get(key);
	if (!pool || pool.closed || pool.destroyed) {
		pool = new Pool(origin, {
			connections: settings.connections,
			keepAliveTimeout: settings.keepAliveTimeoutMs,
			keepAliveMaxTimeout: Math.max(settings.keepAliveTimeoutMs, 60_000),
			connect: { timeout: settings.connectTimeoutMs },
		});
		pools.set(key, pool);
	}
	return pool;
}

/** Closes every account pool and forgets every rate budget (end of a CLI run, test teardown). */
export async function closeSprintHubAccounts(): Promise<void> {
	const all = [...pools.values()];
	pools.clear();
	rateBudgets.clear();
	await Promise.all(all.map((pool) => pool.destroy().catch(() => undefined)));
}
