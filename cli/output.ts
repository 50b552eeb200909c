/**
 * Everything the command line writes goes through here: secrets are removed from every line, and
 * tables, numbers and times are formatted the same way by every command.
 */
import { redactSecrets } from '../engine';
import { rememberSecret } from './lastResort';

export interface Stream {
	write(text: string): unknown;
	isTTY?: boolean;
	columns?: number;
}

export class Output {
	private readonly secrets: string[] = [];

	constructor(
		readonly stdout: Stream,
		readonly stderr: Stream,
	) {}

	/** Strings never to print (the token and the key), whatever echoes them. */
	addSecret(secret: string | undefined): void {
		if (!secret) return;
		this.secrets.push(secret);
		rememberSecret(secret);
	}

	redact(text: string): string {
		return redactSecrets(text, this.secrets);
	}

	/** A line of results (stdout). */
	line(text = ''): void {
		this.stdout.write(`${this.redact(text)}\n`);
	}

	/** Progress, warnings and errors (stderr), so stdout stays parseable. */
	info(text: string): void {
		this.stderr.write(`${this.redact(text)}\n`);
	}

	/** Raw text to stderr (the progress bar's control sequences). */
	rawErr(text: string): void {
		this.stderr.write(this.redact(text));
	}

	json(value: unknown): void {
		this.stdout.write(`${this.redact(JSON.stringify(value, null, 2))}\n`);
	}

	get stderrIsTTY(): boolean {
		return this.stderr.isTTY === true;
	}

	get width(): number {
		return this.stdout.isTTY && this.stdout.columns ? this.stdout.columns : 0;
	}
}

/** A plain text table: columns padded to their widest cell, the last column cut to the terminal width. */
export function table(headers: string[], rows: string[][], maxWidth = 0): string[] {
	const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
	if (maxWidth > 0) {
		const fixed = widths.slice(0, -1).reduce((sum, width) => sum + width + 2, 0);
		widths[widths.length - 1] = Math.max(headers[headers.length - 1].length, Math.min(widths[widths.length - 1], maxWidth - fixed));
	}
	const render = (cells: string[]) =>
		cells
			.map((cell, column) => {
				const width = widths[column];
				const text = cell.length > width ? `${cell.slice(0, Math.max(0, width - 1))}…` : cell;
				return column === cells.length - 1 ? text : text.padEnd(width);
			})
			.join('  ')
			.trimEnd();
	return [render(headers), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)];
}

export function formatNumber(value: number | null | undefined): string {
	if (value === null || value === undefined || !Number.isFinite(Number(value))) return '-';
	return Number(value).toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
	if (!Number.isFinite(ms)) return '-';
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const seconds = ms / 1000;
	if (seconds < 60) return `${seconds.toFixed(1)} s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
	return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "3 min ago" / "in 2 h" relative to now; '-' for null. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
	if (!iso) return '-';
	const at = Date.parse(iso);
	if (!Number.isFinite(at)) return '-';
	const delta = at - now;
	const abs = Math.abs(delta);
	const text =
		abs < 45_000
			? `${Math.round(abs / 1000)} s`
			: abs < 3_600_000
				? `${Math.round(abs / 60_000)} min`
				: abs < 172_800_000
					? `${Math.round(abs / 3_600_000)} h`
					: `${Math.round(abs / 86_400_000)} d`;
	if (abs < 1000) return 'now';
	return delta < 0 ? `${text} ago` : `in ${text}`;
}
