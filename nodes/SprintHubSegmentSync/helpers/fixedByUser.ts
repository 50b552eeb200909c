import type { INode } from 'n8n-workflow';
import { parameterError } from './errors';

/**
 * When the node is an AI agent's tool, the agent fills the parameters the user left to it
 * ($fromAI(…) expressions). Some parameters decide how far the node may reach (trust a record as
 * given, which schema to write): those must be set by the user. `paths` are dotted parameter paths
 * (options.schema); a value that asks an agent for them stops the node before anything happens.
 */
export function refuseAgentChoice(node: INode, itemIndex: number, paths: Array<{ path: string; label: string }>): void {
	for (const { path, label } of paths) {
		const raw = readPath(node.parameters, path);
		if (typeof raw === 'string' && /\$fromAI\s*\(|\bfromAI\s*\(/i.test(raw)) {
			throw parameterError(
				node,
				itemIndex,
				`${label} cannot be left to an AI agent`,
				`Set ${label} in the node yourself: an agent may choose the leads, not how far the node may reach.`,
			);
		}
	}
}

/** The value at a dotted path (`a.b.c`) in a JSON value, or undefined. */
export function readPath(value: unknown, path: string): unknown {
	let current = value;
	for (const key of path.split('.')) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Record<string, unknown>)[key];
	}
	return current;
}
