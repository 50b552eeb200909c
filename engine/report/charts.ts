/**
 * Time-series charts as inline SVG, drawn on the server. A page of them needs no script, loads
 * nothing, prints and reads the same offline, and every series is an element a test (or a screen
 * reader, through its title) can find. Only what a chart library would not save: scales, paths,
 * threshold lines, two axis labels.
 */
import { escapeHtml } from './escape';

export interface ChartSeries {
	/** Shown in the legend and as data-series on the path. */
	name: string;
	color: string;
	/** [time in ms, value]; null breaks the line. */
	points: Array<[number, number | null]>;
	/** Bars of this many milliseconds from each point's time, instead of a line (e.g. counts per hour). */
	barMs?: number;
}

export interface ChartThreshold {
	label: string;
	value: number;
}

export interface ChartSpec {
	/** Unique in the page (for aria-labelledby). */
	id: string;
	title: string;
	/** Unit of the y axis, e.g. "min", "%". */
	unit: string;
	from: number;
	to: number;
	series: ChartSeries[];
	thresholds?: ChartThreshold[];
	/** Fixed top of the y axis (e.g. 100 for percentages). */
	yMax?: number;
	/** Size of the drawing in SVG units (it scales to its box); wide charts keep their text small. */
	width?: number;
	height?: number;
}

const PAD = { left: 38, right: 8, top: 10, bottom: 20 };
const THRESHOLD_COLOR = '#c0392b';

export function chartSvg(spec: ChartSpec): string {
	const WIDTH = spec.width ?? 320;
	const HEIGHT = spec.height ?? 150;
	const plotW = WIDTH - PAD.left - PAD.right;
	const plotH = HEIGHT - PAD.top - PAD.bottom;
	let top = spec.yMax ?? 0;
	if (spec.yMax === undefined) {
		for (const series of spec.series) for (const [, value] of series.points) if (value !== null && value > top) top = value;
		for (const threshold of spec.thresholds ?? []) top = Math.max(top, threshold.value);
		top = niceCeil(top * 1.1);
	}
	const span = Math.max(spec.to - spec.from, 1);
	const x = (time: number) => PAD.left + ((time - spec.from) / span) * plotW;
	const y = (value: number) => PAD.top + plotH - (Math.min(value, top) / top) * plotH;
	const titleId = `${spec.id}-title`;
	const descId = `${spec.id}-desc`;
	const parts: string[] = [
		`<svg class="chart" id="${spec.id}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${titleId} ${descId}" xmlns="http://www.w3.org/2000/svg">`,
		`<title id="${titleId}">${escapeHtml(spec.title)}</title>`,
		`<desc id="${descId}">${escapeHtml(describe(spec))}</desc>`,
		`<g class="axes" font-size="9" fill="currentColor">`,
		`<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#999" stroke-width="0.5"/>`,
		`<line x1="${PAD.left}" y1="${PAD.top}" x2="${WIDTH - PAD.right}" y2="${PAD.top}" stroke="#ddd" stroke-width="0.5"/>`,
		`<text x="${PAD.left - 4}" y="${PAD.top + 3}" text-anchor="end">${formatTick(top)}</text>`,
		`<text x="${PAD.left - 4}" y="${PAD.top + plotH + 3}" text-anchor="end">0</text>`,
		`<text x="${PAD.left}" y="${HEIGHT - 5}">${shortDate(spec.from)}</text>`,
		`<text x="${WIDTH - PAD.right}" y="${HEIGHT - 5}" text-anchor="end">${shortDate(spec.to)}</text>`,
		`</g>`,
	];
	for (const threshold of spec.thresholds ?? []) {
		const ty = y(threshold.value).toFixed(1);
		parts.push(
			`<g class="threshold" data-threshold="${escapeHtml(threshold.label)}"><line x1="${PAD.left}" y1="${ty}" x2="${WIDTH - PAD.right}" y2="${ty}" stroke="${THRESHOLD_COLOR}" stroke-width="1" stroke-dasharray="4 3"/>` +
				`<text x="${WIDTH - PAD.right - 2}" y="${Number(ty) - 3}" text-anchor="end" font-size="8" fill="${THRESHOLD_COLOR}">${escapeHtml(threshold.label)}</text></g>`,
		);
	}
	for (const series of spec.series) {
		const shown = series.points.filter(([, value]) => value !== null).length;
		parts.push(`<g class="series" data-series="${escapeHtml(series.name)}" data-points="${shown}">`);
		if (series.barMs) {
			const base = PAD.top + plotH;
			for (const [time, value] of series.points) {
				if (value === null || value <= 0 || time + series.barMs <= spec.from || time >= spec.to) continue;
				const left = x(Math.max(time, spec.from));
				const width = Math.max((x(Math.min(time + series.barMs, spec.to)) - left) * 0.85, 0.6);
				const top = y(value);
				parts.push(`<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${(base - top).toFixed(1)}" fill="${series.color}"/>`);
			}
		} else {
			let d = '';
			let pen = false;
			for (const [time, value] of series.points) {
				if (value === null) {
					pen = false;
					continue;
				}
				d += `${pen ? 'L' : 'M'}${x(time).toFixed(1)} ${y(value).toFixed(1)}`;
				pen = true;
			}
			if (d) parts.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.6" stroke-linejoin="round"/>`);
			// Dots only for a few points, where they are needed (a lone run would otherwise be invisible):
			// beyond that they cost page size (200 segments × 5 charts) and add nothing to a line.
			if (shown <= 12) {
				for (const [time, value] of series.points) {
					if (value !== null) parts.push(`<circle cx="${x(time).toFixed(1)}" cy="${y(value).toFixed(1)}" r="2" fill="${series.color}"/>`);
				}
			}
		}
		parts.push('</g>');
	}
	parts.push('</svg>');
	const legend = spec.series
		.map((series) => `<span class="key"><i style="background:${series.color}"></i>${escapeHtml(series.name)}</span>`)
		.concat((spec.thresholds ?? []).map((t) => `<span class="key"><i class="dash"></i>${escapeHtml(t.label)}</span>`))
		.join('');
	return `<figure class="figure"><figcaption>${escapeHtml(spec.title)} <span class="unit">(${escapeHtml(spec.unit)})</span></figcaption>${parts.join('')}<div class="legend">${legend}</div></figure>`;
}

/** A sentence for screen readers: the latest and highest value of each series. */
function describe(spec: ChartSpec): string {
	const sentences = spec.series.map((series) => {
		const values = series.points.map(([, value]) => value).filter((value): value is number => value !== null);
		if (values.length === 0) return `${series.name}: no data.`;
		return `${series.name}: ${values.length} points, latest ${formatTick(values[values.length - 1])}, highest ${formatTick(Math.max(...values))} ${spec.unit}.`;
	});
	for (const threshold of spec.thresholds ?? []) sentences.push(`Alert line: ${threshold.label}.`);
	return `${shortDate(spec.from)} to ${shortDate(spec.to)}. ${sentences.join(' ')}`;
}

/** The next round number at or above a value (1, 1.2, 1.5, 2 … 8 × 10^n), so the top label reads well and little space is lost. */
export function niceCeil(value: number): number {
	if (!(value > 0)) return 1;
	const magnitude = 10 ** Math.floor(Math.log10(value));
	for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
	return 10 * magnitude;
}

function formatTick(value: number): string {
	if (value >= 10_000) return `${Math.round(value / 1000)}k`;
	if (value >= 1000) return `${(value / 1000).toFixed(1).replace(/\.0$/, '')}k`;
	return String(Math.round(value * 10) / 10);
}

function shortDate(time: number): string {
	const date = new Date(time);
	return `${date.toISOString().slice(5, 10)} ${date.toISOString().slice(11, 16)}`;
}
