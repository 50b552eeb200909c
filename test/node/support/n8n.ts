import './env';
import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import { CredentialTestContext, ExecuteContext, WorkflowExecute } from 'n8n-core';
// Not re-exported by n8n-core's index; its cleanup timer must be stopped for jest to exit.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialsDecrypted,
	type ICredentialTestFunction,
	type IDataObject,
	type IExecuteData,
	type INode,
	type INodeCredentialTestResult,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type INodeTypes,
	type IRunExecutionData,
	type IWorkflowExecuteAdditionalData,
	type WorkflowExecuteMode,
} from 'n8n-workflow';
import { SprintHubSegmentSync } from '../../../nodes/SprintHubSegmentSync/SprintHubSegmentSync.node';

/**
 * The smallest faithful n8n around our node: a real `Workflow` (n8n-workflow) whose node type
 * registry holds the node, a real `ExecuteContext` (n8n-core 1.122) for it, a credentials helper
 * that returns the decrypted credentials as n8n's would, n8n's own routing of error items to the
 * error output (WorkflowExecute.handleNodeErrorOutput), and n8n's Logger replaced by one that
 * records what the node logs.
 */

export const NODE_TYPE = 'n8n-nodes-sprinthub-sync.sprintHubSegmentSync';
const START_TYPE = 'test.start';

export interface LogLine {
	level: 'error' | 'warn' | 'info' | 'debug';
	message: string;
	meta?: unknown;
}

const logs: LogLine[] = [];
const recordingLogger = {
	error: (message: string, meta?: unknown) => logs.push({ level: 'error', message, meta }),
	warn: (message: string, meta?: unknown) => logs.push({ level: 'warn', message, meta }),
	info: (message: string, meta?: unknown) => logs.push({ level: 'info', message, meta }),
	debug: (message: string, meta?: unknown) => logs.push({ level: 'debug', message, meta }),
	scoped: () => recordingLogger,
};
Container.set(Logger, recordingLogger as unknown as Logger);

const nodeType = new SprintHubSegmentSync();
const startType: INodeType = {
	description: {
		displayName: 'Start',
		name: START_TYPE,
		group: ['trigger'],
		version: 1,
		description: 'Test input',
		defaults: { name: 'Start' },
		inputs: [],
		outputs: ['main'],
		properties: [],
	},
};

export const nodeTypes: INodeTypes = {
	getByName: (type) => (type === NODE_TYPE ? nodeType : startType),
	getByNameAndVersion: (type) => (type === NODE_TYPE ? nodeType : startType),
	getKnownTypes: () => ({}),
};

export interface Credentials {
	sprintHubApi?: { baseUrl: string; instance: string; apiToken: string };
	supabaseApi?: { host: string; serviceRole: string };
	/** n8n's Header Auth credential (the webhook secret). */
	httpHeaderAuth?: { name: string; value: string };
}

export interface RunNodeOptions {
	parameters: INodeParameters;
	credentials: Credentials;
	items?: IDataObject[];
	/** n8n's "On Error" node setting. Default: stop the workflow. */
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
	mode?: WorkflowExecuteMode;
	/** The execution's cancel signal (what n8n aborts when a user stops the execution). */
	signal?: AbortSignal;
}

export interface NodeRun {
	/** The main output after n8n's error routing. */
	main: INodeExecutionData[];
	/** The error output (only with onError continueErrorOutput). */
	errorOutput: INodeExecutionData[];
	/** What execute() threw, when it did. */
	error?: Error & { description?: string | null; context?: IDataObject; httpCode?: string | null };
	logs: LogLine[];
	/** What sendMessageToUI delivered to the editor (manual mode). */
	uiMessages: unknown[];
}

export async function runNode(options: RunNodeOptions): Promise<NodeRun> {
	const node: INode = {
		id: 'node-under-test',
		name: 'SprintHub Segment Sync',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [200, 0],
		parameters: options.parameters,
		credentials: {
			sprintHubApi: { id: 'cred-sprinthub', name: 'SprintHub account' },
			supabaseApi: { id: 'cred-supabase', name: 'Supabase account' },
			httpHeaderAuth: { id: 'cred-webhook', name: 'SprintHub webhook secret' },
		},
		...(options.onError && options.onError !== 'stopWorkflow' ? { onError: options.onError } : {}),
	};
	const start: INode = { id: 'start', name: 'Start', type: START_TYPE, typeVersion: 1, position: [0, 0], parameters: {} };
	const workflow = new Workflow({
		id: 'wf-test',
		name: 'node test',
		nodes: [start, node],
		connections: { Start: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		active: false,
		nodeTypes,
	});
	const items: INodeExecutionData[] = (options.items ?? [{}]).map((json) => ({ json }));
	const uiMessages: unknown[] = [];
	const additionalData = {
		executionId: 'exec-test',
		credentialsHelper: {
			getDecrypted: async (_additional: unknown, nodeCredentials: { id: string | null }, type: string): Promise<ICredentialDataDecryptedObject> => {
				const data = options.credentials[type as keyof Credentials];
				if (!data) throw new Error(`Credential of type "${type}" (${nodeCredentials.id}) does not exist`);
				return { ...data };
			},
			getCredentialsProperties: () => [],
		},
		sendDataToUI: (type: string, data: unknown) => uiMessages.push({ type, data }),
		variables: {},
		webhookWaitingBaseUrl: 'http://localhost/webhook-waiting',
		formWaitingBaseUrl: 'http://localhost/form-waiting',
		restApiUrl: 'http://localhost/rest',
		instanceBaseUrl: 'http://localhost/',
	} as unknown as IWorkflowExecuteAdditionalData;
	const runExecutionData: IRunExecutionData = {
		resultData: { runData: { Start: [{ startTime: 0, executionTime: 0, executionIndex: 0, source: [], data: { main: [items] } }] } },
	} as unknown as IRunExecutionData;
	const executeData: IExecuteData = { node, data: { main: [items] }, source: { main: [{ previousNode: 'Start' }] } };
	const mode = options.mode ?? 'manual';
	const context = new ExecuteContext(workflow, node, additionalData, mode, runExecutionData, 0, items, { main: [items] }, executeData, [], options.signal);

	const logStart = logs.length;
	let outputs: INodeExecutionData[][] | undefined;
	let error: NodeRun['error'];
	try {
		outputs = await nodeType.execute!.call(context);
	} catch (thrown) {
		error = thrown as NodeRun['error'];
	}
	let main: INodeExecutionData[] = [];
	let errorOutput: INodeExecutionData[] = [];
	if (outputs) {
		if (options.onError === 'continueErrorOutput') {
			// n8n's own routing: items carrying an error go to the error output.
			const routed: INodeExecutionData[][] = [outputs[0].slice()];
			new WorkflowExecute(additionalData, mode, runExecutionData).handleNodeErrorOutput(workflow, executeData, routed, 0);
			main = routed[0] ?? [];
			errorOutput = routed[1] ?? [];
		} else {
			main = outputs[0];
		}
	}
	return { main, errorOutput, error, logs: logs.slice(logStart), uiMessages };
}

/** Stops what n8n-core started in this process (its SSH tunnel manager's cleanup timer). Call in afterAll. */
export function stopN8n(): void {
	if (Container.has(SSHClientsManager)) Container.get(SSHClientsManager).onShutdown();
}

/** Runs the node's credential test the way n8n's credentials tester calls it. */
export async function testSprintHubCredential(data: Credentials['sprintHubApi']): Promise<INodeCredentialTestResult> {
	const credential: ICredentialsDecrypted = { id: 'cred-sprinthub', name: 'SprintHub account', type: 'sprintHubApi', data: data as unknown as ICredentialDataDecryptedObject };
	const testedBy = nodeType.description.credentials?.find((c) => c.name === 'sprintHubApi')?.testedBy;
	if (typeof testedBy !== 'string') throw new Error('the node declares no credential test for sprintHubApi');
	const test = (nodeType.methods!.credentialTest as Record<string, ICredentialTestFunction>)[testedBy];
	return test.call(new CredentialTestContext(), credential);
}

/** Everything a user could see of a run: output items, error (message, description, cause), logs, UI messages. */
export function everythingVisible(run: NodeRun): string {
	const error = run.error
		? {
				message: run.error.message,
				description: run.error.description,
				stack: run.error.stack,
				cause: (run.error as { cause?: unknown }).cause,
				context: run.error.context,
				json: safeJson(run.error),
			}
		: null;
	return safeJson({ main: run.main, errorOutput: run.errorOutput, error, logs: run.logs, ui: run.uiMessages });
}

function safeJson(value: unknown): string {
	const seen = new WeakSet<object>();
	return JSON.stringify(value, (_key, entry: unknown) => {
		if (entry instanceof Error) {
			return { name: entry.name, message: entry.message, stack: entry.stack, ...(entry as unknown as Record<string, unknown>) };
		}
		if (entry && typeof entry === 'object') {
			if (seen.has(entry)) return '[circular]';
			seen.add(entry);
		}
		return entry;
	});
}
