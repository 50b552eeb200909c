import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { isSyncError, StoreError, type SyncErrorJson } from '../../../engine';
import type { ExecutionSecrets } from './secrets';
import { describeTlsFailure, tlsFailureOf } from './tls';

/** Engine codes that mean a node parameter is wrong (not SprintHub or Supabase failing). */
const PARAMETER_CODES = new Set([
	'invalid_segment_id',
	'segment_not_registered',
	'lead_invalid_id',
	'missing_base_url',
	'invalid_base_url',
	'missing_instance',
	'invalid_instance',
	'missing_token',
]);

/** Hints for database problems, in words an n8n user can act on. */
const STORE_HINTS: Partial<Record<StoreError['kind'], string>> = {
	migrations_missing:
		'The Supabase project does not have the sync tables yet: run the migrations from the package’s supabase folder (supabase db push --include-roles; or in the SQL editor: roles.sql, then each migration in order), then run the node again.',
	schema_not_exposed: 'Add the schema to Supabase → Project Settings → Data API → Exposed schemas, or set the Database Schema option to "public".',
	permission: 'Use the service role secret (secret key) in the Supabase credential, not the anon or publishable key.',
	auth: 'The Supabase credential’s Service Role Secret was rejected: copy the service role secret (secret key) of this project again.',
	unknown_segment: 'Add the segment first (Segment → Add, or select sync_add_segment(<id>); in the SQL editor).',
	network: 'Supabase could not be reached: check the Host of the Supabase credential (https://<project>.supabase.co) and the network.',
	unavailable: 'Supabase is unavailable right now; run again later or set the node to retry on fail.',
	timeout: 'The database statement took too long: lower the Batch Size option.',
};

export interface NodeErrorContext {
	node: INode;
	itemIndex: number;
	secrets: ExecutionSecrets;
	/** Says what the node was doing, e.g. "Syncing segment 101". */
	action?: string;
}

/**
 * Turns anything the engine throws into n8n's error classes: NodeApiError for SprintHub and Supabase
 * failures, NodeOperationError for wrong parameters, both carrying the item index and a description
 * that says what to fix, and neither carrying a secret.
 */
export function toNodeError(error: unknown, context: NodeErrorContext): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (isSyncError(error)) return fromSyncErrorJson(error.toJSON(), context);
	if (error instanceof StoreError) return fromStoreError(error, context);
	const message = context.secrets.redact(error instanceof Error ? error.message : String(error));
	return new NodeOperationError(context.node, prefix(context, message), {
		itemIndex: context.itemIndex,
		description: 'An unexpected error. If it persists, report it with the execution’s log lines.',
	});
}

/** The error of a failed sync result (a SyncError as JSON). */
export function fromSyncErrorJson(json: SyncErrorJson, context: NodeErrorContext): NodeApiError | NodeOperationError {
	const { secrets, node, itemIndex } = context;
	const message = prefix(context, secrets.redact(json.message));
	const description = secrets.redact(describeSyncError(json));
	if (PARAMETER_CODES.has(json.code ?? '') || json.code === 'cancelled') {
		return new NodeOperationError(node, message, { itemIndex, description });
	}
	const response: JsonObject = secrets.redactJson({ ...json } as unknown as JsonObject);
	return new NodeApiError(node, response, {
		itemIndex,
		message,
		description,
		httpCode: json.httpStatus !== undefined ? String(json.httpStatus) : undefined,
	});
}

function fromStoreError(error: StoreError, context: NodeErrorContext): NodeApiError | NodeOperationError {
	const { secrets, node, itemIndex } = context;
	const message = prefix(context, secrets.redact(error.message));
	if (error.kind === 'invalid_argument' || error.kind === 'unknown_segment') {
		// The database refused a value the user gave (a schedule, a share, a segment id).
		return new NodeOperationError(node, message, {
			itemIndex,
			description: STORE_HINTS[error.kind] ?? 'Change the parameter the message names.',
		});
	}
	const description = secrets.redact(STORE_HINTS[error.kind] ?? 'The Supabase database refused the call; see the message.');
	const response: JsonObject = { kind: error.kind, code: error.code, operation: error.operation, message };
	return new NodeApiError(node, response, {
		itemIndex,
		message,
		description,
		httpCode: error.status ? String(error.status) : undefined,
	});
}

function describeSyncError(json: SyncErrorJson): string {
	const code = json.code ?? '';
	if (code.startsWith('database_')) {
		const kind = code.slice('database_'.length) as StoreError['kind'];
		return STORE_HINTS[kind] ?? json.hint;
	}
	if (code === 'invalid_token' || code === 'missing_token') {
		return 'SprintHub rejected the API token: copy it again from SprintHub → Settings → Integrations → API into the SprintHub API credential.';
	}
	if (code === 'unknown_instance' || code === 'missing_instance' || code === 'invalid_instance') {
		return 'SprintHub does not know this instance: set the credential’s Instance to your account’s subdomain (acme for acme.sprinthub.app).';
	}
	if (code === 'unknown_segment') {
		return 'SprintHub has no segment with this id: pick the segment from the list, or check its id in SprintHub.';
	}
	const tls = tlsFailureOf(json.message);
	if (tls) return describeTlsFailure(tls, null);
	return json.hint;
}

function prefix(context: NodeErrorContext, message: string): string {
	return context.action ? `${context.action}: ${message}` : message;
}

/** The error an item gets when the user's input is wrong. */
export function parameterError(node: INode, itemIndex: number, message: string, description: string): NodeOperationError {
	return new NodeOperationError(node, message, { itemIndex, description });
}

