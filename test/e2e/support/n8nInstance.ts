/**
 * An isolated, offline n8n instance for end-to-end tests: its own user folder, fixed encryption key,
 * loopback only, no telemetry. Wraps the CLI (import, execute, activate), `n8n start` with a readiness
 * wait, reads executions from the instance's SQLite database, and stops every process it started.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from 'pg';

import { n8nInstallation, type N8nInstallation, type N8nMajor } from './paths';
import {
	freePort,
	killProcessGroup,
	sigkillProcessGroup,
	processesWithEnvironment,
	runCommand,
	sleep,
	spawnInGroup,
	tail,
	type CommandResult,
} from './processes';

export const e2eEncryptionKey = 'e2e-encryption-key-0123456789abcdef';

/** A credential in n8n's decrypted import format; `data` is encrypted by `import:credentials`. */
export interface CredentialImport {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

/** A workflow as n8n exports it; give it a fixed `id` (at most 21 characters) so tests know it. */
export interface WorkflowImport {
	id: string;
	name: string;
	nodes: unknown[];
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	[key: string]: unknown;
}

export interface ExecutionRow {
	id: number;
	workflowId: string;
	mode: string;
	status: string;
	finished: boolean;
	startedAt: string | null;
	stoppedAt: string | null;
}

/** What `n8n execute` reported: n8n's IRun (status, data.resultData.runData, ...) and the process. */
export interface ExecuteResult {
	ok: boolean;
	/** The run as printed by n8n, or null if it printed none (e.g. unknown node type). */
	run: N8nRun | null;
	command: CommandResult;
}

export interface N8nRun {
	status: string;
	mode: string;
	data: {
		resultData: {
			runData: Record<string, Array<{ data?: { main: Array<Array<{ json: Record<string, unknown> }> | null> }; error?: { message: string } }>>;
			lastNodeExecuted?: string;
			error?: { message: string; description?: string };
		};
	};
	[key: string]: unknown;
}

export interface N8nInstanceOptions {
	major: N8nMajor;
	/** Extra environment for every n8n process of this instance (e.g. the Slack capture's). */
	env?: Record<string, string>;
	/** Keep the temp folder after `dispose()` (for debugging); also set by E2E_KEEP=1. */
	keepFiles?: boolean;
}

const cliTimeoutMs = 180_000;

export class N8nInstance {
	readonly installation: N8nInstallation;
	/** Temp folder holding `home` (N8N_USER_FOLDER), `tmp` (TMPDIR) and `logs`. */
	readonly rootDir: string;
	readonly userFolder: string;
	readonly logDir: string;
	readonly port: number;
	private readonly baseEnv: NodeJS.ProcessEnv;
	private readonly keepFiles: boolean;
	private mainProcess: ChildProcess | null = null;
	private mainLogPath: string | null = null;
	private logSequence = 0;

	private constructor(installation: N8nInstallation, rootDir: string, port: number, options: N8nInstanceOptions) {
		this.installation = installation;
		this.rootDir = rootDir;
		this.userFolder = path.join(rootDir, 'home');
		this.logDir = path.join(rootDir, 'logs');
		this.port = port;
		this.keepFiles = options.keepFiles ?? process.env.E2E_KEEP === '1';
		const tmpDir = path.join(rootDir, 'tmp');
		for (const dir of [this.userFolder, this.logDir, tmpDir]) fs.mkdirSync(dir, { recursive: true });
		const nodeBinDir = path.dirname(installation.nodeBin);
		// A clean environment: nothing from the caller (NODE_OPTIONS of tsx/jest, proxies) leaks into n8n.
		this.baseEnv = {
			PATH: `${nodeBinDir}:${path.join(installation.dir, 'node_modules', '.bin')}:/usr/local/bin:/usr/bin:/bin`,
			HOME: rootDir,
			// n8n 2.x writes $TMPDIR/n8nDataTableUploads, Node 24 a compile cache: keep them in here.
			TMPDIR: tmpDir,
			LANG: 'C.UTF-8',
			TZ: 'UTC',
			GENERIC_TIMEZONE: 'UTC',
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: e2eEncryptionKey,
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_HOST: '127.0.0.1',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_PORT: String(port),
			N8N_SECURE_COOKIE: 'false',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
			...(installation.major === 2
				? {
						// No calls to api.n8n.io (community-node list, MCP registry).
						N8N_VERIFIED_PACKAGES_ENABLED: 'false',
						N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
						N8N_DISABLED_MODULES: 'mcp-registry',
					}
				: {
						// isolated-vm in n8n 1.123 has no build for Node 20.
						N8N_EXPRESSION_ENGINE: 'legacy',
						DB_SQLITE_POOL_SIZE: '2',
						N8N_RUNNERS_ENABLED: 'true',
					}),
			...options.env,
		};
	}

	static async create(options: N8nInstanceOptions): Promise<N8nInstance> {
		const installation = n8nInstallation(options.major);
		const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), `n8n${options.major}-e2e-`));
		return new N8nInstance(installation, rootDir, await freePort(), options);
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get databasePath(): string {
		return path.join(this.userFolder, '.n8n', 'database.sqlite');
	}

	/** The environment n8n processes of this instance get (without a task-broker port). */
	get env(): NodeJS.ProcessEnv {
		return { ...this.baseEnv };
	}

	/**
	 * Runs an n8n CLI command. Every process gets its own task-broker port, so commands can run next to
	 * `n8n start`. Output goes to logs/NN-<command>.log as well.
	 */
	async cli(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CommandResult> {
		const env = { ...this.baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...options.env };
		const result = await runCommand(this.installation.nodeBin, [this.installation.n8nBin, ...args], {
			cwd: this.rootDir,
			env,
			timeoutMs: options.timeoutMs ?? cliTimeoutMs,
		});
		const logName = `${String(++this.logSequence).padStart(2, '0')}-${args[0].replace(/[^a-z0-9-]/gi, '_')}.log`;
		fs.writeFileSync(path.join(this.logDir, logName), `$ n8n ${args.join(' ')}\n# exit ${result.code}\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
		return result;
	}

	private async cliOrThrow(args: string[]): Promise<CommandResult> {
		const result = await this.cli(args);
		if (result.code !== 0) {
			throw new Error(`n8n ${args.join(' ')} exited ${result.code}\n${tail(result.stdout + result.stderr, 30)}`);
		}
		return result;
	}

	async importCredentials(credentials: CredentialImport[]): Promise<void> {
		const file = path.join(this.rootDir, `credentials-${Date.now()}.json`);
		fs.writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
		try {
			await this.cliOrThrow(['import:credentials', `--input=${file}`]);
		} finally {
			// The file holds the plain test secrets; n8n keeps them encrypted.
			fs.rmSync(file, { force: true });
		}
	}

	async importWorkflows(workflows: WorkflowImport[]): Promise<void> {
		const file = path.join(this.rootDir, `workflows-${Date.now()}.json`);
		fs.writeFileSync(file, JSON.stringify(workflows, null, 2));
		const result = await this.cliOrThrow(['import:workflow', `--input=${file}`]);
		if (!/imported/i.test(result.stdout + result.stderr)) {
			throw new Error(`n8n import:workflow did not report an import\n${tail(result.stdout + result.stderr, 20)}`);
		}
	}

	/**
	 * Runs a workflow headless from its Manual Trigger (`n8n execute --id --rawOutput`) and parses the
	 * run n8n prints (log lines come before it, so the JSON block is cut out; failed runs are printed too).
	 */
	async execute(workflowId: string): Promise<ExecuteResult> {
		const command = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput']);
		const run = extractRun(command.stdout) ?? extractRun(command.stdout + '\n' + command.stderr);
		const ok = command.code === 0 && run !== null && run.status === 'success' && !run.data.resultData.error;
		return { ok, run, command };
	}

	/** Marks a workflow active so `n8n start` runs its triggers (2.x: publish, 1.x: update --active). */
	async activate(workflowId: string): Promise<void> {
		if (this.installation.major === 2) await this.cliOrThrow(['publish:workflow', `--id=${workflowId}`]);
		else await this.cliOrThrow(['update:workflow', `--id=${workflowId}`, '--active=true']);
	}

	/**
	 * Starts a long-running n8n process and waits until /healthz/readiness answers 200: `start` (main,
	 * on `port`), or in queue mode `worker` (its health server is put on `port`) or `webhook`.
	 */
	async start(options: { command?: 'start' | 'worker' | 'webhook'; timeoutMs?: number } = {}): Promise<{ readyMs: number }> {
		if (this.mainProcess) throw new Error('n8n is already started');
		const command = options.command ?? 'start';
		const timeoutMs = options.timeoutMs ?? 90_000;
		const started = Date.now();
		this.mainLogPath = path.join(this.logDir, `${String(++this.logSequence).padStart(2, '0')}-${command}.log`);
		const log = fs.openSync(this.mainLogPath, 'a');
		const env: NodeJS.ProcessEnv = { ...this.baseEnv, N8N_RUNNERS_BROKER_PORT: String(await freePort()) };
		if (command === 'worker') Object.assign(env, { QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(this.port) });
		const child = spawnInGroup(this.installation.nodeBin, [this.installation.n8nBin, command], {
			cwd: this.rootDir,
			env,
			stdio: ['ignore', log, log],
		});
		fs.closeSync(log);
		this.mainProcess = child;
		let exited = false;
		child.on('exit', () => (exited = true));
		const deadline = started + timeoutMs;
		while (Date.now() < deadline) {
			if (exited) throw new Error(`n8n ${command} exited before it was ready\n${this.mainLog(40)}`);
			try {
				const response = await fetch(`${this.baseUrl}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
				if (response.status === 200) return { readyMs: Date.now() - started };
			} catch {
				// Not listening yet.
			}
			await sleep(250);
		}
		throw new Error(`n8n ${command} was not ready after ${timeoutMs} ms\n${this.mainLog(40)}`);
	}

	/** Pid of the process started by `start()` (n8n's main process; its task runner is a child), or null. */
	get mainPid(): number | null {
		return this.mainProcess?.pid ?? null;
	}

	/** The last lines of the log of the process started by `start()`. */
	mainLog(lines = 60): string {
		return this.mainLogPath && fs.existsSync(this.mainLogPath) ? tail(fs.readFileSync(this.mainLogPath, 'utf8'), lines) : '';
	}

	/** Stops the process started by `start()` and its task runner (the whole process group). */
	async stop(): Promise<void> {
		if (!this.mainProcess) return;
		await killProcessGroup(this.mainProcess, 15_000);
		this.mainProcess = null;
	}

	/**
	 * SIGKILLs the process started by `start()` and its task runner (the whole group) with no grace, as
	 * a crash or an OOM kill of the host would; waits until the group is gone. `start()` may follow.
	 */
	async kill(): Promise<void> {
		const child = this.mainProcess;
		if (!child?.pid) return;
		this.mainProcess = null;
		await sigkillProcessGroup(child.pid);
	}

	/** Whether the process started by `start()` is still running. */
	get running(): boolean {
		const child = this.mainProcess;
		return !!child && child.exitCode === null && child.signalCode === null;
	}

	/** Pids of any process still running with this instance's user folder (should be none after stop). */
	leftoverProcesses(): number[] {
		return processesWithEnvironment(`N8N_USER_FOLDER=${this.userFolder}`);
	}

	/**
	 * Runs a read-only SQL query on n8n's database: Postgres when the instance has DB_TYPE=postgresdb
	 * (`?` placeholders become `$n`), otherwise its SQLite file through the installed n8n's sqlite3 module.
	 * Quote camel-cased columns ("workflowId"); both databases accept that.
	 */
	async query<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
		if (this.baseEnv.DB_TYPE === 'postgresdb') {
			let index = 0;
			const client = new Client({
				host: this.baseEnv.DB_POSTGRESDB_HOST ?? '127.0.0.1',
				port: Number(this.baseEnv.DB_POSTGRESDB_PORT ?? 5432),
				database: this.baseEnv.DB_POSTGRESDB_DATABASE,
				user: this.baseEnv.DB_POSTGRESDB_USER,
				password: this.baseEnv.DB_POSTGRESDB_PASSWORD,
			});
			await client.connect();
			try {
				const schema = this.baseEnv.DB_POSTGRESDB_SCHEMA;
				if (schema) await client.query(`set search_path to "${schema.replace(/"/g, '')}"`);
				return (await client.query(sql.replace(/\?/g, () => `$${++index}`), params)).rows as Row[];
			} finally {
				await client.end();
			}
		}
		const script = `
const sqlite3 = require(${JSON.stringify(path.join(this.installation.dir, 'node_modules', 'sqlite3'))});
const [file, sql, params] = JSON.parse(process.argv[1]);
const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (openError) => {
	if (openError) { console.error(openError.message); process.exit(2); }
	db.configure('busyTimeout', 5000);
	db.all(sql, params, (error, rows) => {
		if (error) { console.error(error.message); process.exit(3); }
		process.stdout.write(JSON.stringify(rows));
		db.close();
	});
});`;
		const result = await runCommand(this.installation.nodeBin, ['-e', script, JSON.stringify([this.databasePath, sql, params])], {
			env: { PATH: this.baseEnv.PATH, TMPDIR: this.baseEnv.TMPDIR },
			timeoutMs: 30_000,
		});
		if (result.code !== 0) throw new Error(`SQLite query failed: ${result.stderr.trim()}`);
		return JSON.parse(result.stdout) as Row[];
	}

	/** Execution rows (execution_entity), oldest first, optionally of one workflow. */
	async executions(workflowId?: string): Promise<ExecutionRow[]> {
		const rows = await this.query<Omit<ExecutionRow, 'finished'> & { finished: number | boolean }>(
			`select id, "workflowId", mode, status, finished, "startedAt", "stoppedAt" from execution_entity
			 ${workflowId ? 'where "workflowId" = ?' : ''} order by id`,
			workflowId ? [workflowId] : [],
		);
		// SQLite gives 'YYYY-MM-DD HH:MM:SS.sss' (UTC) strings, pg gives Dates: both become ISO strings.
		const iso = (value: unknown): string | null => {
			if (!value) return null;
			if (value instanceof Date) return value.toISOString();
			const text = String(value).replace(' ', 'T');
			return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`).toISOString();
		};
		return rows.map((row) => ({
			...row,
			id: Number(row.id),
			finished: Boolean(row.finished),
			startedAt: iso(row.startedAt),
			stoppedAt: iso(row.stoppedAt),
		}));
	}

	/** The stored run data of one execution (execution_data, serialized by n8n with `flatted`). */
	async executionData(executionId: number): Promise<N8nRun['data'] | null> {
		const rows = await this.query<{ data: string }>('select data from execution_data where "executionId" = ?', [executionId]);
		if (rows.length === 0) return null;
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const flatted = require(path.join(this.installation.dir, 'node_modules', 'flatted')) as { parse(text: string): unknown };
		return flatted.parse(rows[0].data) as N8nRun['data'];
	}

	/** Waits until `predicate` holds for the executions of a workflow; returns them. */
	async waitForExecutions(
		workflowId: string,
		predicate: (rows: ExecutionRow[]) => boolean,
		timeoutMs: number,
	): Promise<ExecutionRow[]> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const rows = await this.executions(workflowId);
			if (predicate(rows)) return rows;
			if (Date.now() > deadline) {
				throw new Error(`executions of ${workflowId} did not match in ${timeoutMs} ms: ${JSON.stringify(rows)}\n${this.mainLog(30)}`);
			}
			await sleep(500);
		}
	}

	/** Stops everything and removes the temp folder (unless kept). */
	async dispose(): Promise<void> {
		await this.stop();
		if (!this.keepFiles) fs.rmSync(this.rootDir, { recursive: true, force: true });
	}
}

/** Cuts the pretty-printed run (a line `{` up to the last line `}`) out of n8n's output. */
export function extractRun(output: string): N8nRun | null {
	const lines = output.split('\n');
	const start = lines.findIndex((line) => line.trimEnd() === '{');
	if (start === -1) return null;
	for (let end = lines.length - 1; end > start; end--) {
		if (lines[end].trimEnd() !== '}') continue;
		try {
			const parsed = JSON.parse(lines.slice(start, end + 1).join('\n')) as N8nRun;
			if (parsed && typeof parsed === 'object' && 'data' in parsed) return parsed;
		} catch {
			// Not this closing brace (log lines may follow); try an earlier one.
		}
	}
	return null;
}
