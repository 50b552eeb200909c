import { startStack, type Stack } from '../support/stack';
import { SyncStore, type PageLead } from '../../engine/store';

/**
 * The page function against Supabase's 8-second statement timeout: the largest pages the engine
 * sends (500 and 1,000 realistic leads with ~30 custom fields), new, changed and unchanged, through
 * PostgREST. The stack's authenticator has the 8 s timeout, as on Supabase.
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

const STATEMENT_TIMEOUT_MS = 8000;

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

async function timedPage(runId: string, leads: PageLead[], pageKey: string): Promise<{ ms: number; result: Awaited<ReturnType<SyncStore['applyPage']>> }> {
	const started = performance.now();
	const result = await store.applyPage(runId, leads, { pageKey, checkpoint: { page: pageKey }, stats: { requests: 1 } });
	return { ms: Math.round(performance.now() - started), result };
}

test('the page function handles 500 and 1,000 leads well inside the statement timeout', async () => {
	await store.addSegment(1, { name: 'bench' });
	const [claim] = await store.claim({ worker: 'bench', segmentIds: [1], trigger: 'cli' });
	const runId = claim.run_id!;
	const report: string[] = [];
	let base = 1_000_000;
	for (const size of [500, 1000]) {
		const ids = Array.from({ length: size }, (_, i) => base + i);
		base += size;
		const fresh = await timedPage(runId, ids.map((id) => realisticLead(id, 1)), `${size}-new`);
		expect(fresh.result).toMatchObject({ inserted: size, updated: 0, unchanged: 0 });
		const changed = await timedPage(runId, ids.map((id) => realisticLead(id, 2)), `${size}-changed`);
		expect(changed.result).toMatchObject({ inserted: 0, updated: size, unchanged: 0 });
		const same = await timedPage(runId, ids.map((id) => realisticLead(id, 2)), `${size}-same`);
		expect(same.result).toMatchObject({ inserted: 0, updated: 0, unchanged: size });
		for (const [label, ms] of [['new', fresh.ms], ['changed', changed.ms], ['unchanged', same.ms]] as const) {
			report.push(`${size} leads ${label}: ${ms} ms`);
			expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS / 2);
		}
	}
	const [problems] = await stack.query(`select count(*)::int as n from leads where cast_problems ? 'points'`);
	expect(problems.n).toBeGreaterThan(0);
	await store.finish(runId, { status: 'success', complete: true });
	// Recorded for the design note (issue 3): times of sync_apply_page through PostgREST.
	console.log(`sync_apply_page timings\n${report.join('\n')}`);
});
