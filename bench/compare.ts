/**
 * Benchmark 5: the same simulated segment (2,000 leads, 80 ms per SprintHub call, no rate limit so
 * that no approach is cut short by throttling) synced three ways into the same database:
 *
 * - original: what the Edge Function and the emergency script did. One segment page (page 0, limit
 *   100, the projection from their code), then per lead: GET /leads/{id}?allFields=1, one supabase-js
 *   upsert of that lead, a fixed sleep. The sleep is 500 ms in the original; here it is scaled down to
 *   SCALED_SLEEP_MS and the wall time is also given extrapolated to the real 500 ms.
 * - n8n-style: a plain workflow emulated call for call in code (not run in n8n): an HTTP Request node
 *   with pagination (POST the segment endpoint, `page` = $pageCount, limit 100, no projection, complete
 *   when `data.leads` is empty), then n8n's Supabase node "Create" (v1), which sends every input item
 *   in one POST /rest/v1/leads (a plain insert with Prefer: return=representation). No detail calls:
 *   it keeps the list fields only. Its second run fails on duplicate keys, since the node cannot upsert.
 * - engine: SyncEngine.syncSegments with the defaults (enrichment `changed`).
 *
 * Calls are counted by the simulator, database requests by the gateway in front of PostgREST.
 */
import { createClient } from '@supabase/supabase-js';
import { request } from 'undici';
import ws from 'ws';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../test/support/world';
import { printTable, round, saveResults, seconds, sleep, type Row } from './support';

const SEGMENT = 501;
const SIZE = 2_000;
const LATENCY_MS = 80;
const ORIGINAL_SLEEP_MS = 500;
const SCALED_SLEEP_MS = 10;
const REAL_BUDGET_PER_MINUTE = 80;
const ORIGINAL_PROJECTION = '{total,leads{id,fullname,email,lastActive,createDate}}';

type Lead = Record<string, unknown> & { id: number };

/** The columns a hand-written script maps from a record (the rest stays in raw). */
function rowOf(record: Lead): Record<string, unknown> {
	const text = (value: unknown) => (value === null || value === undefined || value === '' ? null : String(value));
	return {
		id: record.id,
		fullname: text(record.fullname) ?? ([record.firstname, record.lastname].filter(Boolean).join(' ') || null),
		email: text(record.email),
		phone: text(record.phone),
		city: text(record.city),
		state: text(record.state),
		raw: record,
		change_marker: text(record.updatedDate),
	};
}

async function sprintHub(world: SyncWorld, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
	const url = `${world.sim.baseUrl}${path}${path.includes('?') ? '&' : '?'}i=${world.sim.instance}&apitoken=${world.sim.token}`;
	const response = await request(url, {
		method,
		headers: { 'content-type': 'application/json', apitoken: world.sim.token },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const payload = (await response.body.json()) as unknown;
	if (response.statusCode >= 400) throw new Error(`SprintHub ${response.statusCode}`);
	return payload;
}

function supabase(world: SyncWorld) {
	return createClient(world.stack.supabaseUrl, world.stack.serviceRoleKey, {
		auth: { persistSession: false, autoRefreshToken: false },
		realtime: { transport: ws as unknown as never },
	});
}

async function original(world: SyncWorld): Promise<{ dbErrors: number }> {
	const db = supabase(world);
	const page = (await sprintHub(world, 'POST', `/leadsfromtype/segment/${SEGMENT}`, {
		page: 0,
		limit: 100,
		orderByKey: 'createDate',
		orderByDirection: 'asc',
		showAnon: false,
		showArchived: false,
		search: '',
		query: ORIGINAL_PROJECTION,
		additionalFilter: null,
		idOnly: false,
	})) as { data: { leads: Lead[] } };
	let dbErrors = 0;
	for (const lead of page.data.leads) {
		const detail = (await sprintHub(world, 'GET', `/leads/${lead.id}?allFields=1`)) as { data: { lead: Lead } };
		const { error } = await db.from('leads').upsert(rowOf(detail.data.lead));
		if (error) dbErrors += 1;
		await sleep(SCALED_SLEEP_MS);
	}
	return { dbErrors };
}

async function n8nStyle(world: SyncWorld): Promise<{ dbErrors: number; errorMessage?: string }> {
	// HTTP Request node, pagination "update a parameter in each request": page = {{ $pageCount }}.
	const items: Lead[] = [];
	for (let pageCount = 0; ; pageCount++) {
		const page = (await sprintHub(world, 'POST', `/leadsfromtype/segment/${SEGMENT}`, { page: pageCount, limit: 100 })) as { data: { leads: Lead[] } };
		if (page.data.leads.length === 0) break; // complete when {{ $response.body.data.leads.length === 0 }}
		items.push(...page.data.leads);
	}
	// Supabase node v1 "Create": all input items in one insert.
	const db = supabase(world);
	const { error } = await db.from('leads').insert(items.map(rowOf)).select();
	return { dbErrors: error ? 1 : 0, errorMessage: error?.message };
}

export async function benchCompare(): Promise<Row[]> {
	const world = await startSyncWorld({ seed: 5, segments: [{ id: SEGMENT, name: 'Compare', size: SIZE }], rateLimit: null, latencyMs: LATENCY_MS, logLimit: 100 });
	const rows: Row[] = [];
	try {
		await world.addSegments(SEGMENT);
		const truth = truthMemberIds(world.sim, SEGMENT);
		const stored = async () =>
			Number((await world.stack.query<{ n: number }>('select count(*)::int as n from leads where id = any($1::bigint[])', [truth]))[0].n);
		const fieldsKept = async () =>
			Number(
				(await world.stack.query<{ n: string }>('select round(avg((select count(*) from jsonb_object_keys(raw))), 1) as n from leads where id = any($1::bigint[])', [truth]))[0].n ?? 0,
			);
		const reset = () => world.stack.query('truncate leads, sync_segment_leads');
		const measure = async (approach: string, run: () => Promise<{ dbErrors: number; errorMessage?: string }>, realMs: (ms: number, calls: number) => number, note = '') => {
			world.sim.resetLog();
			world.stack.gateway.requests.length = 0;
			const started = performance.now();
			const outcome = await run();
			const ms = performance.now() - started;
			const kept = await stored();
			const calls = world.sim.counters.total;
			rows.push({
				approach,
				'leads stored': kept,
				'leads missed': truth.length - kept,
				'fields kept per lead': await fieldsKept(),
				'API calls': calls,
				'DB requests': world.stack.gateway.requests.length,
				'DB errors': outcome.dbErrors,
				'wall s (80 ms/call)': seconds(ms),
				'real-world s': seconds(realMs(ms, calls)),
				note: outcome.errorMessage ? `${note} ${outcome.errorMessage}`.trim() : note,
			});
		};
		const atBudget = (_ms: number, calls: number) => (calls / REAL_BUDGET_PER_MINUTE) * 60_000;

		await measure(
			'original (first page, sleep per lead)',
			() => original(world),
			(ms) => ms + 100 * (ORIGINAL_SLEEP_MS - SCALED_SLEEP_MS),
			`sleep ${SCALED_SLEEP_MS} ms measured; real-world = with 500 ms sleeps`,
		);
		await reset();
		await measure('n8n-style (HTTP pagination + Supabase Create)', () => n8nStyle(world), (ms, calls) => Math.max(ms, atBudget(ms, calls)), 'real-world = max(wall, calls at 80/min)');
		await measure('n8n-style, second run', () => n8nStyle(world), (ms, calls) => Math.max(ms, atBudget(ms, calls)), 'fails:');
		await reset();
		const engine = world.engine({ requestsPerMinute: 1_000_000 });
		const runEngine = async (enrichment: 'changed' | 'none' = 'changed') => {
			const [result] = await engine.syncSegments([SEGMENT], { trigger: 'cli', enrichment });
			if (result.status !== 'success') return { dbErrors: 1, errorMessage: result.message };
			return { dbErrors: 0 };
		};
		await measure('engine, enrichment none (list fields only)', () => runEngine('none'), (ms, calls) => Math.max(ms, atBudget(ms, calls)), 'real-world = max(wall, calls at 80/min)');
		await reset();
		await measure('engine (this package)', () => runEngine(), (ms, calls) => Math.max(ms, atBudget(ms, calls)), 'real-world = max(wall, calls at 80/min)');
		const changed = world.sim.mutate.change({ segmentId: SEGMENT, count: Math.round(truth.length / 100) });
		await measure(`engine, next run (${changed.length} changed)`, () => runEngine(), (ms, calls) => Math.max(ms, atBudget(ms, calls)), 'real-world = max(wall, calls at 80/min)');
		printTable(`Side by side: segment of ${truth.length} visible leads, ${LATENCY_MS} ms per SprintHub call`, rows);

		const [orig, n8n, , engNone, eng] = rows;
		const ratios: Row[] = [
			{
				'engine vs': 'original',
				'leads stored ×': round(Number(eng['leads stored']) / Math.max(1, Number(orig['leads stored'])), 1),
				'API calls per stored lead': `${round(Number(eng['API calls']) / Number(eng['leads stored']), 3)} vs ${round(Number(orig['API calls']) / Number(orig['leads stored']), 3)}`,
				'DB requests per stored lead': `${round(Number(eng['DB requests']) / Number(eng['leads stored']), 4)} vs ${round(Number(orig['DB requests']) / Number(orig['leads stored']), 4)}`,
				'real-world time per stored lead (ms)': `${round(Number(eng['real-world s']) * 1000 / Number(eng['leads stored']), 1)} vs ${round(Number(orig['real-world s']) * 1000 / Number(orig['leads stored']), 1)}`,
			},
			{
				'engine vs': 'n8n-style (engine with enrichment none: list fields, like the workflow)',
				'leads stored ×': round(Number(engNone['leads stored']) / Math.max(1, Number(n8n['leads stored'])), 2),
				'API calls per stored lead': `${round(Number(engNone['API calls']) / Number(engNone['leads stored']), 4)} vs ${round(Number(n8n['API calls']) / Number(n8n['leads stored']), 4)}`,
				'DB requests per stored lead': `${round(Number(engNone['DB requests']) / Number(engNone['leads stored']), 4)} vs ${round(Number(n8n['DB requests']) / Number(n8n['leads stored']), 4)}`,
				'real-world time per stored lead (ms)': `${round(Number(engNone['real-world s']) * 1000 / Number(engNone['leads stored']), 1)} vs ${round(Number(n8n['real-world s']) * 1000 / Number(n8n['leads stored']), 1)}`,
			},
		];
		printTable('Ratios (first runs)', ratios);
		saveResults('compare', { rows, ratios });
		return rows;
	} finally {
		await world.stop();
	}
}

if (require.main === module) {
	benchCompare().catch((error: unknown) => {
		process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	});
}
