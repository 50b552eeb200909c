/**
 * How a run shows its progress: a live bar per segment on a terminal (pages, leads, detail calls,
 * throttling waits with their countdown), plain timestamped lines otherwise (cron, CI, pipes).
 */
import type { EngineProgressEvent } from '../engine';
import { formatDuration, formatNumber, type Output } from './output';

export interface ProgressReporter {
	onProgress(event: EngineProgressEvent): void;
	/** Stops redrawing and leaves the cursor on a fresh line. */
	stop(): void;
}

interface SegmentState {
	segmentId: number;
	page: number;
	pages: number;
	seen: number;
	/** Leads of the walk done (listed, detailed where needed, written): what the bar shows. */
	processed: number;
	pageStart: number;
	pageLeads: number;
	total: number;
	details: number;
	/** `done` of the latest details event, to turn per-page counts into a running total. */
	lastDetailsDone: number;
	written: number;
	throttledUntil: number;
	rate: number | null;
	walk: number;
	note: string;
}

function newState(segmentId: number): SegmentState {
	return { segmentId, page: 0, pages: 0, seen: 0, processed: 0, pageStart: 0, pageLeads: 0, total: -1, details: 0, lastDetailsDone: 0, written: 0, throttledUntil: 0, rate: null, walk: 1, note: '' };
}

function track(states: Map<number, SegmentState>, event: EngineProgressEvent): SegmentState {
	let state = states.get(event.segmentId);
	if (!state) {
		state = newState(event.segmentId);
		states.set(event.segmentId, state);
	}
	switch (event.type) {
		case 'claimed':
			if (event.resumedAtPage !== null) state.note = `resumed at page ${event.resumedAtPage}`;
			break;
		case 'walk':
			if (event.walk > state.walk) state.note = `segment moved, walk ${event.walk}`;
			state.walk = event.walk;
			state.seen = 0;
			state.processed = 0;
			break;
		case 'page':
			state.page = event.page;
			state.pages += 1;
			state.seen = event.seen;
			state.total = event.total;
			state.lastDetailsDone = 0;
			state.pageStart = event.seen - event.leads;
			state.pageLeads = event.leads;
			state.processed = state.pageStart;
			break;
		case 'details':
			state.details += event.done >= state.lastDetailsDone ? event.done - state.lastDetailsDone : event.done;
			state.lastDetailsDone = event.done;
			if (event.planned > 0) state.processed = state.pageStart + Math.floor((state.pageLeads * event.done) / event.planned);
			break;
		case 'written':
			state.written += event.inserted + event.updated;
			// Writes follow the page's detail calls: the page is done.
			state.processed = state.pageStart + state.pageLeads;
			break;
		case 'throttled':
			state.throttledUntil = Math.max(state.throttledUntil, Date.now() + event.waitMs);
			state.rate = event.requestsPerMinute;
			break;
		default:
			break;
	}
	return state;
}

/** One line per event, prefixed with the time and the segment (what a log file or cron mail shows). */
export class LineReporter implements ProgressReporter {
	private readonly states = new Map<number, SegmentState>();
	private lastBudgetMessage = '';
	constructor(private readonly output: Output) {}

	onProgress(event: EngineProgressEvent): void {
		if (event.type === 'budget') {
			// The budget is the account's: said once, not once per segment.
			if (event.message !== this.lastBudgetMessage) this.output.info(`${new Date().toISOString()} ${event.message}`);
			this.lastBudgetMessage = event.message;
			return;
		}
		const state = track(this.states, event);
		const say = (text: string) => this.output.info(`${new Date().toISOString()} segment ${event.segmentId}: ${text}`);
		switch (event.type) {
			case 'claimed':
				say(event.resumedAtPage !== null ? `run ${event.runId} resumes at page ${event.resumedAtPage}` : `run ${event.runId} started`);
				break;
			case 'walk':
				if (event.walk > 1) say(`the segment changed while it was read; walking it again (walk ${event.walk})`);
				break;
			case 'page':
				say(`page ${event.page}: ${formatNumber(event.leads)} leads (${formatNumber(event.seen)} of ${formatNumber(event.total)})`);
				break;
			case 'details':
				if (event.done === event.planned) say(`${formatNumber(event.planned)} detail calls for this page (${formatNumber(state.details)} in all)`);
				break;
			case 'throttled':
				say(`SprintHub throttled; waiting ${formatDuration(event.waitMs)} (budget now ${Math.round(event.requestsPerMinute)} requests/min)`);
				break;
			case 'retry':
				say(`retry ${event.attempt}: ${event.message}`);
				break;
			case 'finished':
				say(`${event.status} in ${formatDuration(event.durationMs)}`);
				break;
			default:
				break;
		}
	}

	stop(): void {}
}

const BAR_WIDTH = 24;

/** A redrawn block of bars on stderr; finished segments turn into a static line above it. */
export class BarReporter implements ProgressReporter {
	private readonly states = new Map<number, SegmentState>();
	private readonly active: number[] = [];
	private readonly pending: string[] = [];
	private drawnLines = 0;
	private readonly timer: NodeJS.Timeout;
	private stopped = false;
	private lastBudgetMessage = '';

	constructor(private readonly output: Output) {
		this.timer = setInterval(() => this.draw(), 200);
		this.timer.unref();
	}

	onProgress(event: EngineProgressEvent): void {
		if (this.stopped) return;
		if (event.type === 'budget') {
			if (event.message !== this.lastBudgetMessage) this.pending.push(`  ${event.message}`);
			this.lastBudgetMessage = event.message;
			return;
		}
		const state = track(this.states, event);
		if (!this.active.includes(event.segmentId) && event.type !== 'finished') this.active.push(event.segmentId);
		if (event.type === 'retry') this.pending.push(`  segment ${event.segmentId}: retry ${event.attempt}: ${event.message}`);
		if (event.type === 'finished') {
			const index = this.active.indexOf(event.segmentId);
			if (index >= 0) this.active.splice(index, 1);
			this.pending.push(
				`  segment ${event.segmentId}: ${event.status} in ${formatDuration(event.durationMs)} · ${formatNumber(state.seen)} leads · ${formatNumber(state.details)} detail calls`,
			);
			this.draw();
		}
	}

	stop(): void {
		if (this.stopped) return;
		this.draw();
		this.stopped = true;
		clearInterval(this.timer);
		this.clear();
	}

	private clear(): void {
		if (this.drawnLines > 0) this.output.rawErr(`\x1b[${this.drawnLines}F\x1b[J`);
		this.drawnLines = 0;
	}

	private draw(): void {
		if (this.stopped) return;
		const width = Math.max(40, (this.output.stderr.columns || 120) - 1);
		let text = '';
		if (this.drawnLines > 0) text += `\x1b[${this.drawnLines}F\x1b[J`;
		for (const line of this.pending.splice(0)) text += `${line.slice(0, width)}\n`;
		const lines = this.active.map((segmentId) => this.render(this.states.get(segmentId)!).slice(0, width));
		for (const line of lines) text += `${line}\n`;
		this.drawnLines = lines.length;
		if (text) this.output.rawErr(text);
	}

	private render(state: SegmentState): string {
		const share = state.total > 0 ? Math.min(1, state.processed / state.total) : state.total === 0 ? 1 : 0;
		const filled = Math.round(share * BAR_WIDTH);
		const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
		const total = state.total >= 0 ? formatNumber(state.total) : '?';
		const parts = [
			`segment ${state.segmentId} ▕${bar}▏ ${String(Math.round(share * 100)).padStart(3)}%`,
			`${formatNumber(state.processed)}/${total} leads`,
			`${formatNumber(state.pages)} page${state.pages === 1 ? '' : 's'}`,
			`${formatNumber(state.details)} detail calls`,
		];
		const waitMs = state.throttledUntil - Date.now();
		if (waitMs > 0) parts.push(`throttled, resuming in ${Math.ceil(waitMs / 1000)} s (${Math.round(state.rate ?? 0)}/min)`);
		else if (state.note) parts.push(state.note);
		return parts.join(' · ');
	}
}

export function createReporter(output: Output, mode: 'auto' | 'bar' | 'lines' | 'none'): ProgressReporter {
	if (mode === 'none') return { onProgress: () => {}, stop: () => {} };
	if (mode === 'bar' || (mode === 'auto' && output.stderrIsTTY)) return new BarReporter(output);
	return new LineReporter(output);
}
