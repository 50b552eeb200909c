import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';
import { expectRecordsMatchTruth, expectSegmentMatchesTruth, requestedPages } from './fixtures/syncTruth';

/**
 * Issue 15, item 1: enrichment "auto" (the default). Per account, the engine checks whether segment list
 * pages carry full records (allFields=1 and a projection naming every field) on a few leads, keeps what it
 * learned in sync_list_capabilities, and syncs from list pages alone only when they do. The simulator
 * plays each server: allFields honoured, ignored, or honoured with some fields left out.
 */
describe('enrichment auto: list pages instead of a detail call per lead, when the account allows it', () => {
	let world: SyncWorld;
	const sync = async (segmentId: number) => {
		const [result] = await world.engine().syncSegments([segmentId], { trigger: 'manual', detailConcurrency: 8 });
		return result;
	};
	const capability = async () => {
		const rows = await world.stack.query<{ list_complete: boolean; missing_fields: string[]; differing_fields: string[]; fields: string[]; checked_at: Date; verified_at: Date | null }>(
			'select list_complete, missing_fields, differing_fields, fields, checked_at, verified_at from sync_list_capabilities',
		);
		expect(rows).toHaveLength(1);
		return rows[0];
	};
	/** Members no earlier sync stored (segments of the simulated account overlap). */
	const unstored = async (segmentId: number) => {
		const members = truthMemberIds(world.sim, segmentId);
		const rows = await world.stack.query<{ id: string }>('select id from leads where id = any($1::bigint[])', [members]);
		const stored = new Set(rows.map((row) => Number(row.id)));
		return members.filter((id) => !stored.has(id));
	};
	/** As the README tells a user: delete the account's row and the next run checks again. */
	const forget = () => world.stack.query('delete from sync_list_capabilities');

	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 15,
			listFullRecords: { allFields: 'honoured' },
			segments: [
				{ id: 501, name: 'Learns', size: 1_400 },
				{ id: 502, name: 'Ignored', size: 900 },
				{ id: 503, name: 'Missing', size: 700 },
				{ id: 504, name: 'Listed', size: 2_300 },
			],
		});
		await world.addSegments(501, 502, 503, 504);
	}, 60_000);
	afterAll(() => world?.stop());

	it('new segments default to auto', async () => {
		const rows = await world.stack.query<{ enrichment_mode: string }>('select distinct enrichment_mode from sync_segments_control');
		expect(rows).toEqual([{ enrichment_mode: 'auto' }]);
	});

	it('a fresh database learns the custom fields from its first sync, then the next run finds the list complete and stops calling per lead', async () => {
		const members = await unstored(501);
		const first = await sync(501);
		// Nothing stored yet names the custom fields: the projection leaves them out, the check sees them missing.
		expect(first).toMatchObject({ status: 'success', listRecords: { checkedThisRun: true, listComplete: false, usedThisRun: 'detail' } });
		expect(first.listRecords!.missingFields).toEqual(expect.arrayContaining(world.sim.truth.customFieldAliases()));
		expect(first.stats.detailCalls).toBe(members.length);
		await expectSegmentMatchesTruth(world, 501, { sample: 200 });

		const changed = world.sim.mutate.change({ segmentId: 501, count: 14 });
		const second = await sync(501);
		// The fields are known now: the account is checked again on five leads and found complete.
		expect(second).toMatchObject({ status: 'success', listRecords: { checkedThisRun: true, listComplete: true, usedThisRun: 'list', sampleSize: 5 } });
		// Leads of the checked page that needed a record got detail calls (five of them are the sample);
		// the changed leads of later pages came from the list.
		const page0 = new Set(world.sim.truth.segmentMemberIds(501).slice(0, 1000));
		const changedOnPage0 = changed.filter((id) => page0.has(id)).length;
		expect(changedOnPage0).toBeLessThan(changed.length);
		expect(second.stats.detailCalls).toBe(Math.max(5, changedOnPage0));
		expect(second.stats.updated).toBe(changed.length);
		const stored = await capability();
		expect(stored).toMatchObject({ list_complete: true, missing_fields: [], differing_fields: [] });
		expect(stored.fields).toEqual(expect.arrayContaining(world.sim.truth.customFieldAliases()));
		await expectRecordsMatchTruth(world, changed);

		const again = world.sim.mutate.change({ segmentId: 501, count: 10 });
		const third = await sync(501);
		// One lead re-verified per run; the changed leads come from the list pages.
		expect(third).toMatchObject({ status: 'success', listRecords: { checkedThisRun: false, verifiedThisRun: true, usedThisRun: 'list' } });
		expect(third.stats.detailCalls).toBe(1);
		// The re-verified lead is rewritten too; its row may gain a list-only field (fullname) the first sync did not ask for.
		expect(third.stats.updated - again.length).toBeGreaterThanOrEqual(0);
		expect(third.stats.updated - again.length).toBeLessThanOrEqual(1);
		await expectRecordsMatchTruth(world, again);
		expect((await capability()).verified_at).not.toBeNull();
	}, 180_000);

	it('a whole segment synced from list pages: about N/1000 calls, every record as a detail call gives it', async () => {
		const members = truthMemberIds(world.sim, 504);
		const fresh = await unstored(504);
		world.sim.resetLog();
		const result = await sync(504);
		expect(result).toMatchObject({ status: 'success', complete: true, listRecords: { usedThisRun: 'list', verifiedThisRun: true } });
		expect(result.stats.detailCalls).toBe(1);
		expect(result.stats.inserted).toBe(fresh.length);
		expect(requestedPages(world, 504)).toHaveLength(Math.ceil(members.length / 1000) + 1);
		expect(world.sim.requests.filter((entry) => entry.endpoint === 'segmentLeads').every((entry) => entry.query.allFields === '1')).toBe(true);
		await expectSegmentMatchesTruth(world, 504);
	}, 180_000);

	it('list records that lack a field get a detail call; a re-verification that disagrees sends the account back to detail calls', async () => {
		const changed = world.sim.mutate.change({ segmentId: 504, count: 12 });
		const custom = world.sim.truth.customFieldAliases()[0];
		world.sim.setListFullRecords({ allFields: 'honoured', omits: [custom], omitFor: changed });
		const partial = await sync(504);
		expect(partial).toMatchObject({ status: 'success', listRecords: { usedThisRun: 'list', verifiedThisRun: true, incompleteListRecords: changed.length } });
		expect(partial.stats.detailCalls).toBe(1 + changed.length);
		await expectRecordsMatchTruth(world, changed);

		world.sim.setListFullRecords({ allFields: 'honoured', omits: [custom] });
		const more = world.sim.mutate.change({ segmentId: 504, count: 8 });
		const disagreed = await sync(504);
		expect(disagreed).toMatchObject({ status: 'success', listRecords: { verifiedThisRun: false, usedThisRun: 'detail', listComplete: false, missingFields: [custom] } });
		expect(disagreed.stats.detailCalls).toBe(1 + more.length);
		await expectRecordsMatchTruth(world, more);
		expect(await capability()).toMatchObject({ list_complete: false, missing_fields: [custom] });
		world.sim.setListFullRecords({ allFields: 'honoured' });
	}, 180_000);

	it('a server that ignores allFields: checked once on leads that needed details anyway, then detail calls as in changed', async () => {
		await forget();
		world.sim.setListFullRecords({ allFields: 'ignored' });
		const members = await unstored(502);
		const first = await sync(502);
		expect(first).toMatchObject({ status: 'success', listRecords: { checkedThisRun: true, listComplete: false, usedThisRun: 'detail' } });
		// The owner comes as {completName} in lists and as a user id in details: a list record is not complete.
		expect(first.listRecords!.differingFields).toContain('owner');
		expect(first.stats.detailCalls).toBe(members.length);
		await expectSegmentMatchesTruth(world, 502, { sample: 200 });

		const changed = world.sim.mutate.change({ segmentId: 502, count: 9 });
		world.sim.resetLog();
		const second = await sync(502);
		expect(second).toMatchObject({ status: 'success', listRecords: { checkedThisRun: false, usedThisRun: 'detail' } });
		expect(second.stats.detailCalls).toBe(changed.length);
		expect(world.sim.requests.some((entry) => entry.query.allFields === '1' && entry.endpoint === 'segmentLeads')).toBe(false);
		await expectRecordsMatchTruth(world, changed);
	}, 180_000);

	it('a server that honours allFields but leaves a field out: detail calls, and the field is named in what was learned', async () => {
		await forget();
		const custom = world.sim.truth.customFieldAliases()[1];
		world.sim.setListFullRecords({ allFields: 'honoured', omits: [custom] });
		const members = await unstored(503);
		const result = await sync(503);
		expect(result).toMatchObject({ status: 'success', listRecords: { checkedThisRun: true, listComplete: false, usedThisRun: 'detail', missingFields: [custom], differingFields: [] } });
		expect(result.stats.detailCalls).toBe(members.length);
		await expectSegmentMatchesTruth(world, 503, { sample: 200 });
		// The field was named and still left out: the next run does not check again.
		world.sim.mutate.change({ segmentId: 503, count: 3 });
		const next = await sync(503);
		expect(next.listRecords).toMatchObject({ checkedThisRun: false, usedThisRun: 'detail' });
		expect(next.stats.detailCalls).toBe(3);
		world.sim.setListFullRecords({ allFields: 'honoured' });
	}, 180_000);
});
