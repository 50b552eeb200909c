import { startStack, type Stack } from '../support/stack';
import { SyncStore, type PageLead } from '../../engine/store';

/**
 * The page function with the largest pages the engine sends (500 and 1,000 realistic leads with ~30
 * custom fields), new, changed and unchanged, through PostgREST: each page lands whole and right in one
 * database call. The stack's authenticator has Supabase's 8-second statement timeout, so a page too slow
 * for Supabase fails here too. How fast a page goes is a benchmark figure (`npm run bench -- db`, the
 * "largest page" rows in BENCHMARKS.md), not an assertion: a loaded machine must not fail this test.
 */

let stack: Stack;
let store: SyncStore;

beforeAll(async () => {
	stack = await startStack();
	store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
});
afterAll(async () => {
	await stack?.stop();
});

function realisticLead(id: number, version: number): PageLead {
	const custom: Record<string, unknown> = {};
	for (let f = 0; f < 30; f++) {
		const kind = f % 6;
		custom[`campo_personalizado_${f}`] =
			kind === 0 ? `valor ${id}-${f}-${version}` : kind === 1 ? String((id * f) % 1000) : kind === 2 ? '' : kind === 3 ? '2025-03-0' + ((f % 9) + 1) + 'T12:00:00.000Z' : kind === 4 ? null : { opcao: f, rotulo: `Opção ${f}` };
	}
	return {
		record: {
			id,
			firstname: `Nome${id}`,
			lastname: `Sobrenome ${version}`,
			email: `lead${id}@exemplo.com.br`,
			phone: `55119${String(id).padStart(8, '0')}`,
			mobile: '',
			whatsapp: String(5511900000000 + id),
			address: 'Rua das Flores, 123',
			city: 'São Paulo',
			state: 'SP',
			country: 'Brasil',
			zipcode: '01000-000',
			company: id % 3 === 0 ? null : `Empresa ${id % 97}`,
			points: id % 7 === 0 ? 'n/a' : String(id % 500),
			owner: id % 2 === 0 ? 12 : { completName: 'Maria Souza' },
			stage: 'lead',
			archived: false,
			createDate: '2024-05-10T13:45:12.345Z',
			updatedDate: `2026-11-${String(1 + (version % 27)).padStart(2, '0')}T08:00:00.000Z`,
			lastActive: id % 11 === 0 ? 'invalid date' : '2026-11-20T10:00:00.000Z',
			createdBy: id % 5 === 0 ? 'import' : 3,
			createdByName: 'API',
			createdByUtm: { utm_source: 'google', utm_medium: 'cpc' },
			userAccess: [1, 2, 3],
			departmentAccess: [],
			tags: ['cliente', 'vip'],
			...custom,
		},
		enriched: true,
	};
}

/**
 * How many of the sent leads the database holds exactly as sent: the record in `raw`, typed columns
 * cast from it ('n/a' points as NULL described in cast_problems). Compared in SQL: 1,000 records of ~55
 * fields each compared in the test would cost more than the page itself.
 */
async function landed(leads: PageLead[]): Promise<Record<string, unknown>> {
	const [row] = await stack.query(
		`select count(l.id)::int as rows,
			count(*) filter (where l.raw = e.rec)::int as "raw as sent",
			count(*) filter (where l.lastname = e.rec->>'lastname' and l.email = e.rec->>'email')::int as "text columns",
			count(*) filter (where l.updated_date = (e.rec->>'updatedDate')::timestamptz)::int as "date columns",
			count(*) filter (where case when e.rec->>'points' = 'n/a'
				then l.points is null and l.cast_problems->'points'->>'value' = 'n/a'
				else l.points = (e.rec->>'points')::int and not coalesce(l.cast_problems ? 'points', false) end)::int as "points column",
			max(l.written_at) as "last written"
		from jsonb_array_elements($1::jsonb) as e(rec) left join leads l on l.id = (e.rec->>'id')::bigint`,
		[JSON.stringify(leads.map((lead) => lead.record))],
	);
	return row;
}

/** The page function's calls that went through the API gateway since `from`. */
function pageCalls(from: number): { status: number }[] {
	return stack.gateway.requests.slice(from).filter((request) => request.path === '/rest/v1/rpc/sync_apply_page');
}

test('pages of 500 and 1,000 realistic leads land whole and right, new, changed and unchanged, in one database call each', async () => {
	await store.addSegment(1, { name: 'large pages' });
	const [claim] = await store.claim({ worker: 'large-pages', segmentIds: [1], trigger: 'cli' });
	const runId = claim.run_id!;
	let base = 1_000_000;
	for (const size of [500, 1000]) {
		const ids = Array.from({ length: size }, (_, i) => base + i);
		base += size;
		const v1 = ids.map((id) => realisticLead(id, 1));
		const v2 = ids.map((id) => realisticLead(id, 2));
		const apply = (leads: PageLead[], pageKey: string) => store.applyPage(runId, leads, { pageKey, checkpoint: { page: pageKey }, stats: { requests: 1 } });
		const all = (count: number) => ({ rows: count, 'raw as sent': count, 'text columns': count, 'date columns': count, 'points column': count });
		const callsBefore = stack.gateway.requests.length;

		expect(await apply(v1, `${size}-new`)).toMatchObject({ inserted: size, updated: 0, unchanged: 0 });
		expect(await landed(v1)).toMatchObject(all(size));

		expect(await apply(v2, `${size}-changed`)).toMatchObject({ inserted: 0, updated: size, unchanged: 0 });
		const changed = await landed(v2);
		expect(changed).toMatchObject(all(size));

		expect(await apply(v2, `${size}-same`)).toMatchObject({ inserted: 0, updated: 0, unchanged: size });
		// Unchanged leads are compared, not rewritten.
		expect(await landed(v2)).toEqual(changed);

		expect(pageCalls(callsBefore)).toEqual([expect.objectContaining({ status: 200 }), expect.objectContaining({ status: 200 }), expect.objectContaining({ status: 200 })]);
		const [{ members }] = await stack.query<{ members: number }>(
			'select count(*)::int as members from sync_segment_leads where segment_id = 1 and left_at is null and lead_id = any($1::bigint[])',
			[ids],
		);
		expect(members).toBe(size);
	}
	const [problems] = await stack.query(`select count(*)::int as n from leads where cast_problems ? 'points'`);
	expect(problems.n).toBeGreaterThan(0);
	await store.finish(runId, { status: 'success', complete: true });
});
