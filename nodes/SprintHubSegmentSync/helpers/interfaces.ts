import type { EnrichmentMode } from '../../../engine';

/** The SprintHub credential as n8n hands it over (decrypted). */
export interface SprintHubCredential {
	baseUrl: string;
	instance: string;
	apiToken: string;
}

/** n8n's built-in Supabase credential (`supabaseApi`). */
export interface SupabaseCredential {
	host: string;
	serviceRole: string;
}

/** Settings that shape an engine (its SprintHub budget and its database schema). */
export interface EngineSettings {
	requestsPerMinute?: number;
	patienceMs?: number;
	schema?: string;
}

/** The Sync / Sync Due options collection, as the user filled it in. */
export interface SyncOptionsParameter {
	batchSize?: number;
	databasePatienceSeconds?: number;
	detailConcurrency?: number;
	dryRun?: boolean;
	enrichment?: EnrichmentMode | 'segment';
	fullRefresh?: boolean;
	maxSegments?: number;
	parallel?: number;
	patienceMinutes?: number;
	requestsPerMinute?: number;
	schema?: string;
}
