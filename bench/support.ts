/**
 * Shared bits of the benchmarks: tables, timing, the machine description, and a place where each
 * benchmark leaves its figures (bench/results/<name>.json) so BENCHMARKS.md can quote them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

export type Row = Record<string, string | number | null>;

export function printTable(title: string, rows: Row[]): void {
	const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
	const cell = (value: string | number | null | undefined) => (value === null || value === undefined ? '' : String(value));
	const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
	const line = (values: string[]) => `| ${values.map((value, index) => value.padEnd(widths[index])).join(' | ')} |`;
	process.stdout.write(`\n${title}\n`);
	process.stdout.write(`${line(columns)}\n`);
	process.stdout.write(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|\n`);
	for (const row of rows) process.stdout.write(`${line(columns.map((column) => cell(row[column])))}\n`);
}

export function saveResults(name: string, data: unknown): void {
	const folder = join(__dirname, 'results');
	mkdirSync(folder, { recursive: true });
	writeFileSync(join(folder, `${name}.json`), `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), data }, null, '\t')}\n`);
}

export function machine(): Record<string, string | number> {
	let postgres = 'embedded (no DATABASE_URL)';
	if (process.env.DATABASE_URL) {
		try {
			postgres = execFileSync('psql', [process.env.DATABASE_URL, '-Atc', 'show server_version'], { encoding: 'utf8' }).trim();
		} catch {
			postgres = 'unknown';
		}
	}
	return {
		nproc: cpus().length,
		cpu: cpus()[0]?.model ?? 'unknown',
		memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
		node: process.version,
		postgres,
		// Other work on the machine when the figures were taken (1, 5, 15 minutes).
		loadAverage: loadavg().map((value) => round(value, 2)).join(' '),
	};
}

export function round(value: number, digits = 0): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}

export function seconds(ms: number): number {
	return round(ms / 1000, 2);
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
