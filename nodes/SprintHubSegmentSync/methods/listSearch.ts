import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isSyncError, listAllSegments } from '../../../engine';
import { ExecutionSecrets } from '../helpers/secrets';
import { sprintHubClient, sprintHubCredential } from '../transport';

/** The segment picker: the account's segments, searchable, a few pages at a time. */
export async function searchSegments(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	const secrets = new ExecutionSecrets();
	try {
		const client = sprintHubClient(await sprintHubCredential.call(this, secrets), { patienceMs: 30_000 });
		const startPage = paginationToken ? Number(paginationToken) || 0 : 0;
		const segments = await listAllSegments(client, { search: filter, startPage, maxPages: 5 });
		return {
			results: segments.map((segment) => ({
				name: `${segment.name}${segment.totalLeads !== null ? ` (${segment.totalLeads} leads)` : ''}`,
				value: String(segment.id),
			})),
			paginationToken: segments.nextPage !== undefined ? String(segments.nextPage) : undefined,
		};
	} catch (error) {
		const message = secrets.redact(error instanceof Error ? error.message : String(error));
		throw new NodeOperationError(this.getNode(), `Could not list the SprintHub segments: ${message}`, {
			description: isSyncError(error) ? secrets.redact(error.hint) : 'Check the SprintHub credential.',
		});
	}
}
