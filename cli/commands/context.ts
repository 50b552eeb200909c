/**
 * What every command gets from main.ts: the output, the parsed flags, its positionals, the
 * environment and the Ctrl-C signal.
 */
import type { Environment } from '../config';
import type { Output } from '../output';

export interface CommandContext {
	output: Output;
	flags: Record<string, unknown>;
	/** Positionals after the command (and subcommand). */
	args: string[];
	environment: Environment;
	signal: AbortSignal;
}
