import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { toNodeError } from './errors';
import type { ExecutionSecrets } from './secrets';

/**
 * Runs an operation item by item. A failing item becomes an error item (continue on fail, error
 * output) or stops the node with an n8n error carrying its index; nothing leaves here unredacted.
 */
export async function forEachItem(
	this: IExecuteFunctions,
	items: INodeExecutionData[],
	secrets: ExecutionSecrets,
	describe: (itemIndex: number) => string | undefined,
	handler: (itemIndex: number) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			output.push(...(await handler(itemIndex)));
		} catch (error) {
			const nodeError = toNodeError(error, { node: this.getNode(), itemIndex, secrets, action: describe(itemIndex) });
			if (!this.continueOnFail()) throw nodeError;
			output.push(errorItem(nodeError, itemIndex));
		}
	}
	return output;
}

/** An item for the error output (n8n routes items carrying `error` there). */
export function errorItem(error: Error & { description?: string | null }, itemIndex: number, extra: IDataObject = {}): INodeExecutionData {
	return {
		json: { ...extra, error: error.message, ...(error.description ? { errorDescription: error.description } : {}) },
		error: error as INodeExecutionData['error'],
		pairedItem: { item: itemIndex },
	};
}
