import type { LeadMarker } from '../../../engine/store';
import { DetailShare } from '../../../engine/sync/detailShare';
import { Enricher, type EnricherSettings } from '../../../engine/sync/enricher';
import { mergeLeadRecords } from '../../../engine/sync/mergeLead';
import { MARKER_PROJECTION, LIST_PROJECTION } from '../../../engine/sync/projections';
import { startSimulator, type Simulator } from '../../support/simulator';
import { clientFor, closeClients, dryRunParts } from './support';

const DAY = 86_400_000;
const noQuarantine = { quarantine: async () => 0 };

function enricherOf(sim: Simulator, settings: Partial<EnricherSettings> = {}) {
	const parts = dryRunParts(sim, 101);
	const enricher = new Enricher(
		{ ...parts, store: noQuarantine },
		{ mode: 'changed', refreshBefore: null, quarantinedIds: new Set(), detailConcurrency: 4, ...settings },
	);
	return { enricher, tally: parts.tally };
}

async function firstPage(sim: Simulator, query = MARKER_PROJECTION) {
	return (await clientFor(sim).segmentPage(101, { page: 0, limit: 20, query })).leads;
}

function stored(lead: { id: number; updatedDate?: unknown }, enrichedAt: number | null = Date.now()): LeadMarker {
	return {
		lead_id: lead.id,
		change_marker: String(lead.updatedDate),
		enriched_at: enrichedAt === null ? null : new Date(enrichedAt).toISOString(),
		written_at: new Date().toISOString(),
	};
}

describe('Enricher: who needs a detail call, and the record each lead is stored with', () => {
	let sim: Simulator;
	beforeEach(async () => {
		sim = await startSimulator({ rateLimit: null, segments: [{ id: 101, name: 'Hot', size: 60 }] });
	});
	afterEach(async () => {
		await closeClients();
		await sim.close();
	});

	it('in mode changed, calls only for new, changed, never enriched, quarantined or refresh-due leads', async () => {
		const [same, changed, never, quarantined, old, fresh] = await firstPage(sim);
		const known = new Map<number, LeadMarker>([
			[same.id, stored(same)],
			[changed.id, { ...stored(changed), change_marker: '2020-01-01T00:00:00.000Z' }],
			[never.id, stored(never, null)],
			[quarantined.id, stored(quarantined)],
			[old.id, stored(old, Date.now() - 40 * DAY)],
		]);
		const { enricher } = enricherOf(sim, { quarantinedIds: new Set([quarantined.id]), refreshBefore: Date.now() - 30 * DAY });
		expect([same, changed, never, quarantined, old, fresh].map((lead) => enricher.needsDetail(lead, known))).toEqual([false, true, true, true, true, true]);
		expect(enricherOf(sim, { mode: 'all' }).enricher.needsDetail(same, known)).toBe(true);
		expect(enricherOf(sim, { mode: 'none' }).enricher.needsDetail(fresh, known)).toBe(false);
	});

	it('stores the merged list + detail record with its marker, and reports leads SprintHub deleted', async () => {
		const leads = (await firstPage(sim)).slice(0, 6);
		const [gone] = sim.mutate.remove([leads[2].id]);
		const { enricher, tally } = enricherOf(sim);
		const page = await enricher.enrich(leads, new Map());
		expect(page.deletedIds).toEqual([gone]);
		const byId = new Map(page.writes.map((write) => [write.id, write]));
		expect([...byId.keys()].sort()).toEqual(leads.filter((lead) => lead.id !== gone).map((lead) => lead.id).sort());
		const lead = leads[0];
		expect(byId.get(lead.id)).toEqual({ id: lead.id, record: mergeLeadRecords(lead, sim.truth.lead(lead.id)), marker: String(lead.updatedDate), enriched: true });
		expect(tally.stats.detailCalls).toBe(6);
	});

	it('in mode none, writes list records only where the marker moved, with no detail call', async () => {
		const leads = await firstPage(sim, LIST_PROJECTION);
		const known = new Map(leads.slice(0, 15).map((lead) => [lead.id, stored(lead)]));
		const { enricher, tally } = enricherOf(sim, { mode: 'none' });
		const page = await enricher.enrich(leads, known);
		expect(page.writes.map((write) => write.id)).toEqual(leads.slice(15).map((lead) => lead.id));
		expect(page.writes[0]).toEqual({ id: leads[15].id, record: leads[15], marker: String(leads[15].updatedDate), enriched: false });
		expect(tally.stats.detailCalls).toBe(0);
		expect(sim.counters.byEndpoint.leadDetail).toBe(0);
	});

	it('quarantines a lead whose detail keeps failing and goes on with the page', async () => {
		const leads = (await firstPage(sim)).slice(0, 4);
		sim.faults.add({ kind: 'status', status: 503, endpoint: 'leadDetail', path: `/leads/${leads[1].id}` });
		const { enricher, tally } = enricherOf(sim);
		const page = await enricher.enrich(leads, new Map());
		expect(page.writes.map((write) => write.id).sort()).toEqual([leads[0].id, leads[2].id, leads[3].id].sort());
		expect(tally.stats.failed).toBe(1);
		expect(tally.errors).toEqual([expect.objectContaining({ errorClass: 'transient' })]);
	});

	it('segments synced together share one detail call per lead and marker', async () => {
		const leads = (await firstPage(sim)).slice(0, 8);
		const detailShare = new DetailShare();
		const a = enricherOf(sim, { detailShare });
		const b = enricherOf(sim, { detailShare });
		const [pageA, pageB] = await Promise.all([a.enricher.enrich(leads, new Map()), b.enricher.enrich(leads, new Map())]);
		expect(sim.counters.byEndpoint.leadDetail).toBe(8);
		expect(a.tally.stats.detailCalls + b.tally.stats.detailCalls).toBe(8);
		expect(pageB.writes.map((write) => write.record).sort((x, y) => Number(x?.id) - Number(y?.id))).toEqual(
			pageA.writes.map((write) => write.record).sort((x, y) => Number(x?.id) - Number(y?.id)),
		);
	});
});
