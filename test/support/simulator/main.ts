/**
 * The simulator as a standalone process (npm run simulator):
 *
 *   npx tsx test/support/simulator/main.ts [--port N] [--host H] [--seed S] [--instance NAME] [--token T]
 *     [--segments "101:Hot leads:5000,102:Cold:20000"] [--rate 100/60000 | --rate off] [--rate-mode 401|429]
 *     [--max-segment-limit N] [--max-leads-limit N] [--latency MS] [--segments-shape array|wrapped]
 *     [--unknown-segment error|empty] [--log-limit N]
 *
 * Prints the base URL, instance and token (it is a local test double: the token is not a secret), then runs
 * until SIGINT or SIGTERM.
 */
import { SegmentDefinition, SimulatorOptions, startSimulator } from './index';

function parseSegments(text: string): SegmentDefinition[] {
	return text
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean)
		.map((part) => {
			const pieces = part.split(':');
			const id = Number(pieces[0]);
			const size = Number(pieces[pieces.length - 1]);
			const name = pieces.length >= 3 ? pieces.slice(1, -1).join(':') : `Segment ${id}`;
			if (!Number.isSafeInteger(id) || id <= 0 || !Number.isSafeInteger(size) || size < 0) {
				throw new Error(`--segments: "${part}" is not id:name:size (e.g. 101:Hot leads:5000)`);
			}
			return { id, name, size };
		});
}

function integer(flag: string, value: string): number {
	const number = Number(value);
	if (!Number.isSafeInteger(number) || number < 0) throw new Error(`${flag} needs a non-negative integer, got "${value}"`);
	return number;
}

export function parseArguments(argv: string[]): SimulatorOptions {
	const options: SimulatorOptions = { port: 8787, seed: 1 };
	let rateMode: '401' | '429' = '401';
	for (let index = 0; index < argv.length; index++) {
		const flag = argv[index];
		const value = argv[index + 1];
		if (value === undefined) throw new Error(`${flag} needs a value`);
		index++;
		switch (flag) {
			case '--port':
				options.port = integer(flag, value);
				break;
			case '--host':
				options.host = value;
				break;
			case '--seed':
				options.seed = integer(flag, value);
				break;
			case '--instance':
				options.instance = value;
				break;
			case '--token':
				options.token = value;
				break;
			case '--segments':
				options.segments = parseSegments(value);
				break;
			case '--rate': {
				if (value === 'off' || value === 'none') {
					options.rateLimit = null;
					break;
				}
				const match = /^(\d+)\/(\d+)$/.exec(value);
				if (!match) throw new Error(`--rate needs requests/windowMs (e.g. 100/60000) or "off", got "${value}"`);
				options.rateLimit = { requests: Number(match[1]), windowMs: Number(match[2]) };
				break;
			}
			case '--rate-mode':
				if (value !== '401' && value !== '429') throw new Error('--rate-mode is 401 or 429');
				rateMode = value;
				break;
			case '--max-segment-limit':
				options.maxSegmentLimit = integer(flag, value);
				break;
			case '--max-leads-limit':
				options.maxLeadsLimit = integer(flag, value);
				break;
			case '--latency':
				options.latencyMs = integer(flag, value);
				break;
			case '--segments-shape':
				if (value !== 'array' && value !== 'wrapped') throw new Error('--segments-shape is array or wrapped');
				options.segmentsShape = value;
				break;
			case '--unknown-segment':
				if (value !== 'error' && value !== 'empty') throw new Error('--unknown-segment is error or empty');
				options.unknownSegment = value;
				break;
			case '--log-limit':
				options.logLimit = integer(flag, value);
				break;
			default:
				throw new Error(`unknown option ${flag}`);
		}
	}
	if (options.rateLimit !== null) options.rateLimit = { ...(options.rateLimit ?? { requests: 100, windowMs: 60_000 }), mode: rateMode };
	// A long-running process must not grow without bound: keep the latest entries only.
	options.logLimit ??= 10_000;
	return options;
}

const USAGE = `Usage: npm run simulator -- [options]

A SprintHub API simulator on loopback, for trying the CLI or the node without an account.

  --port N                   listen port (default 8787)
  --host H                   listen address (default 127.0.0.1)
  --seed S                   everything generated follows from it (default 1)
  --instance NAME            the account's instance, sent as i= (default acme)
  --token T                  the API token it accepts (default: derived from the seed)
  --segments "ID:NAME:SIZE,…" e.g. "101:Hot leads:5000,102:Cold:20000"
  --rate N/MS | off          throttling: N requests per MS milliseconds (default 100/60000)
  --rate-mode 401|429        how a throttled call is answered (default 401 "too many requests")
  --max-segment-limit N      largest page the segment endpoint honours (default 1000)
  --max-leads-limit N        largest page GET /leads honours (default 200)
  --latency MS               delay before every answer (default 0)
  --segments-shape array|wrapped   shape of GET /segments (default array)
  --unknown-segment error|empty    how an unknown segment is answered (default error: 404)
  --log-limit N              request log entries kept (default 10000)

It prints its base URL, instance and token, then runs until Ctrl-C.
`;

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	if (args.includes('--help') || args.includes('-h')) {
		process.stdout.write(USAGE);
		return;
	}
	const options = parseArguments(args);
	const simulator = await startSimulator(options);
	const rate = options.rateLimit ? `${options.rateLimit.requests} per ${options.rateLimit.windowMs} ms (${options.rateLimit.mode})` : 'off';
	process.stdout.write(
		[
			`SprintHub simulator listening on ${simulator.baseUrl}`,
			`base URL: ${simulator.baseUrl}`,
			`instance: ${simulator.instance}`,
			`token: ${simulator.token}`,
			`seed: ${simulator.seed}; rate limit: ${rate}`,
			...simulator.truth.segments().map((segment) => `segment ${String(segment.id)} "${String(segment.name)}": ${String(segment.totalLeads)} visible leads`),
			'',
		].join('\n'),
	);
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		process.stdout.write(`${signal}: stopping after ${simulator.counters.total} requests\n`);
		simulator.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
	main().catch((error: unknown) => {
		process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	});
}
