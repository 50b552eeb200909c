/**
 * The commands, one file each: each resolves its configuration, checks the connections it needs (one
 * clear line when something is wrong), does its work through the engine and returns an exit code.
 * This file only routes a command name to its file.
 */
import { UsageError } from '../errors';
import { setAccountRate, showAccountBudget } from './account/budget';
import type { CommandContext } from './context';
import { getLead } from './leads/get';
import { addSegments } from './segments/add';
import { listSegments } from './segments/list';
import { pauseOrResume } from './segments/pauseResume';
import { prune } from './prune';
import { reschedule } from './segments/reschedule';
import { showReport } from './report';
import { showStatus } from './status';
import { runSync } from './sync';

export type { CommandContext } from './context';

export async function runCommand(command: string, context: CommandContext): Promise<number> {
	switch (command) {
		case 'sync':
			return runSync(context, 'named');
		case 'sync-due':
			return runSync(context, 'due');
		case 'status':
			return showStatus(context);
		case 'report':
			return showReport(context);
		case 'segments list':
			return listSegments(context);
		case 'segments add':
			return addSegments(context);
		case 'segments pause':
		case 'segments resume':
			return pauseOrResume(context, command === 'segments pause' ? 'pause' : 'resume');
		case 'segments reschedule':
			return reschedule(context);
		case 'leads get':
			return getLead(context);
		case 'prune':
			return prune(context);
		case 'account show':
			return showAccountBudget(context);
		case 'account rate':
			return setAccountRate(context);
		default:
			throw new UsageError(`Unknown command "${command}".`);
	}
}
