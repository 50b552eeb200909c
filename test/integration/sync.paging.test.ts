import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';
import { expectRecordsMatchTruth, expectSegmentMatchesTruth, requestedPages, runLog } from './fixtures/syncTruth';

/** Typed columns of `leads` and the SprintHub field each is cast from. */
const TYPED_COLUMNS: Array<[field: string, column: string]> = [
	['firstname', 'firstname'], ['lastname', 'lastname'], ['email', 'email'], ['phone', 'phone'], ['mobile', 'mobile'],
	['whatsapp', 'whatsapp'], ['address', 'address'], ['city', 'city'], ['state', 'state'], ['country', 'country'],
	['zipcode', 'zipcode'], ['timezone', 'timezone'], ['company', 'company'], ['stage', 'stage'],
	['preferred_locale', 'preferred_locale'], ['photoUrl', 'photo_url'], ['points', 'points'], ['archived', 'archived'],
	['createdBy', 'created_by'], ['createdByName', 'created_by_name'], ['createdByType', 'created_by_type'],
	['updatedBy', 'updated_by'], ['updatedByName', 'updated_by_name'], ['createDate', 'create_date'],
	['updatedDate', 'updated_date'], ['lastActive', 'last_active'],
];

/** Scenarios 2, 5, 9 and 10 of issue 4: capped pages, a segment moving under the walk, wild types, bad input. */
describe('sync paging: capped pages, a moving segment, wild types, clear errors', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 23,
			segments: [
				{ id: 301, name: 'Capped', size: 2_350 },
				{ id: 302, name: 'Moving', size: 3_000 },
				{ id: 303, name: 'Wild', size: 600 },
				{ id: 304, name: 'Untouched', size: 50 },
			],
		});
		await world.addSegments(301, 302, 303, 304, 999);
	}, 60_000);
	afterAll(() => world?.stop());

	it('a server that honours 100 per page while the engine asks 1000: every page read once, none skipped', async () => {
		world.sim.setMaxLimits({ segment: 100 });
		try {
			world.sim.resetLog();
			const [result] = await world.engine().syncSegments([301], { trigger: 'manual', pageSize: 1000, detailConcurrency: 16 });
			expect(result).toMatchObject({ status: 'success', complete: true });
			const truth = await expectSegmentMatchesTruth(world, 301, { sample: 300 });
			const pages = requestedPages(world, 301);
			expect(pages[0]).toEqual({ page: 0, limit: 1000 });
			// After page 0 the engine asks for what the server honours, so page numbers mean the same offsets.
			expect(pages.slice(1).every((page) => page.limit === 100)).toBe(true);
			expect(pages.map((page) => page.page)).toEqual(Array.from({ length: Math.ceil(truth.length / 100) + 1 }, (_, index) => index));
			expect(result.stats).toMatchObject({ inserted: truth.length, updated: 0, unchanged: 0, detailCalls: truth.length, pages: pages.length });
		} finally {
			world.sim.setMaxLimits({ segment: 1000 });
		}
	}, 60_000);

	it('leads join, leave, change and are deleted while the pages are read: nobody lost, leavers marked by the next run', async () => {
		const before = truthMemberIds(world.sim, 302);
		const events: Record<string, number[]> = { joined: [], left: [], changed: [], deleted: [] };
		// Request 1 is page 0, then up to ~1000 detail calls: this lands between pages of the first walk.
		const cancel = world.sim.schedule({ atRequest: 400 }, () => {
			events.left.push(...world.sim.mutate.leave(302, before.slice(10, 30)));
			events.joined.push(...world.sim.mutate.join(302, 6), ...world.sim.mutate.join(302, 4, { newLeads: true }));
			events.changed.push(...world.sim.mutate.change(before.slice(1500, 1520)));
			events.deleted.push(...world.sim.mutate.remove(before.slice(2990, 2995)));
		});
		// Leads of the last page that no earlier sync stored: each gets a detail call, which will answer 404.
		const storedBefore = new Set(await world.memberIds(301));
		const listOrder = Array.from(world.sim.truth.segmentMemberIds(302));
		const deletedAfterRead = listOrder.slice(2300).filter((id) => !storedBefore.has(id)).slice(0, 3);
		let secondWave = false;
		const [first] = await world
			.engine()
			.syncSegments([302], {
				trigger: 'manual',
				detailConcurrency: 8,
				onProgress: (event) => {
					// Page 2 of the first walk was just read; its detail calls are still to come.
					if (event.type !== 'page' || event.page !== 2 || secondWave) return;
					secondWave = true;
					events.left.push(...world.sim.mutate.leave(302, before.slice(100, 103)));
					events.changed.push(...world.sim.mutate.change(before.slice(50, 55)));
					events.deleted.push(...world.sim.mutate.remove(deletedAfterRead));
				},
			})
			.finally(cancel);
		expect(events.left.length).toBe(23);
		expect(first.status).toBe('success');
		expect(first.complete).toBe(true);
		expect(first.stats.walks).toBeGreaterThanOrEqual(2);
		const stored = new Set(await world.memberIds(302));
		const truth = truthMemberIds(world.sim, 302);
		// Nobody who is a member now is missing, joiners included.
		expect(truth.filter((id) => !stored.has(id))).toEqual([]);
		for (const id of events.joined) expect(stored.has(id)).toBe(true);
		// What the run still holds beyond the truth is only leads that left or were deleted mid-run.
		const gone = new Set([...events.left, ...events.deleted]);
		expect([...stored].filter((id) => !truth.includes(id) && !gone.has(id))).toEqual([]);
		// Leads deleted after their page was read got a 404 on the detail call: not members, never
		// stored as live leads (a stored one would be stamped deleted_at).
		expect(first.stats.deleted).toBeGreaterThanOrEqual(deletedAfterRead.length);
		for (const id of deletedAfterRead) expect(stored.has(id)).toBe(false);
		expect(await world.stack.query('select id from leads where deleted_at is null and id = any($1::bigint[])', [deletedAfterRead])).toEqual([]);
		await expectRecordsMatchTruth(world, truth.filter((id) => events.changed.includes(id) || events.joined.includes(id)));

		// A stable run: exactly the truth, leavers marked as left, no detail call for what did not change.
		world.sim.resetLog();
		const [second] = await world.engine().syncSegments([302], { trigger: 'manual' });
		expect(second).toMatchObject({ status: 'success', complete: true });
		// Leads left, so a second (ids only) walk confirms them before they are marked.
		expect(second.stats.walks).toBe(2);
		// Walked twice, yet each lead counts once in what the run reports.
		expect(second.stats.leadsSeen).toBe(world.sim.truth.segmentMemberIds(302).length);
		const [secondLog] = await world.stack.query<{ stats: { leads_seen: number; unchanged: number } }>('select stats from sync_segments_logs where run_id = $1', [second.runId]);
		expect(secondLog.stats.leads_seen).toBe(second.stats.leadsSeen);
		expect(secondLog.stats.unchanged).toBe(second.stats.unchanged);
		await expectSegmentMatchesTruth(world, 302, { changed: events.changed, sample: 100 });
		const leftRows = await world.stack.query<{ lead_id: string }>(
			'select lead_id from sync_segment_leads where segment_id = 302 and left_at is not null order by lead_id',
		);
		// Those the first run had stored (seen before they went) are marked now; nobody else is.
		const heldAfterFirst = [...stored].filter((id) => gone.has(id)).sort((a, b) => a - b);
		expect(heldAfterFirst.length).toBeGreaterThan(0);
		// The first run saw them in one walk and missed them in the next: it reported them as pending.
		expect(first.leaversPending).toBe(heldAfterFirst.length);
		expect(second.leaversPending).toBe(0);
		expect(leftRows.map((row) => Number(row.lead_id))).toEqual(heldAfterFirst);
		expect(second.left).toBe(heldAfterFirst.length);
		// No detail call for what did not change; one per leaver, and those SprintHub deleted are stamped.
		expect(second.stats.detailCalls).toBe(heldAfterFirst.length);
		const heldDeleted = heldAfterFirst.filter((id) => events.deleted.includes(id));
		expect(second.stats.deleted).toBe(heldDeleted.length);
		const stamped = await world.stack.query<{ id: string }>('select id from leads where deleted_at is not null and id = any($1::bigint[]) order by id', [heldAfterFirst]);
		expect(stamped.map((row) => Number(row.id))).toEqual(heldDeleted);
	}, 60_000);

	it('wild types: every value stored raw, cast into its column or recorded in cast_problems, never a failed batch', async () => {
		const members = truthMemberIds(world.sim, 303);
		const wild = world.sim.mutate.change(members.slice(0, 8), {
			points: 'doze',
			lastActive: '31/02/2024 25:61',
			archived: 'talvez',
			owner: 'joão',
			createdBy: { nested: [1, 2] },
			phone: 5511999990000,
			zipcode: 1234567,
			createdByUtm: [{ utm_source: null }, 'x'],
			data_de_nascimento: '',
			firstname: ['a', 'list'],
		});
		const [result] = await world.engine().syncSegments([303], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(result.stats.failed).toBe(0);
		expect(result.errors).toEqual([]);
		await expectSegmentMatchesTruth(world, 303);
		// Every typed column holds the cast value, or the raw value was blank, or cast_problems says why.
		const uncast = await world.stack.query<{ id: string; field: string }>(
			`select l.id, f.field from leads l
			 join sync_segment_leads s on s.lead_id = l.id and s.segment_id = 303 and s.left_at is null
			 cross join lateral (select * from jsonb_each_text(jsonb_build_object(${TYPED_COLUMNS.map(([field, column]) => `'${field}', (l.${column} is null)::text`).join(', ')}))) as f(field, is_null)
			 where f.is_null = 'true' and not sync_is_blank(l.raw -> f.field) and not coalesce(l.cast_problems ? f.field, false)`,
		);
		expect(uncast).toEqual([]);
		const problems = await world.stack.query<{ id: string; cast_problems: Record<string, unknown>; points: number | null }>(
			'select id, cast_problems, points from leads where id = any($1::bigint[]) order by id',
			[wild],
		);
		expect(problems).toHaveLength(wild.length);
		for (const row of problems) {
			expect(Object.keys(row.cast_problems ?? {})).toEqual(expect.arrayContaining(['points', 'lastActive', 'archived', 'owner', 'createdBy', 'firstname']));
			expect(row.cast_problems.points).toEqual({ value: 'doze', expected: 'integer' });
			expect(row.points).toBeNull();
		}
		// Digits sent as numbers still land in the text columns.
		const [sample] = await world.stack.query<{ phone: string; zipcode: string }>('select phone, zipcode from leads where id = $1', [wild[0]]);
		expect(sample).toEqual({ phone: '5511999990000', zipcode: '1234567' });
	}, 60_000);

	it('a wrong token: a configuration error that names the token, nothing written', async () => {
		const [{ n: leadsBefore }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads');
		const [result] = await world.engine({ token: '00000000-0000-4000-a000-000000000000' }).syncSegments([304], { trigger: 'manual' });
		expect(result.status).toBe('failed');
		expect(result.error).toMatchObject({ errorClass: 'configuration', code: 'invalid_token' });
		expect(`${result.message} ${result.error?.hint}`).toMatch(/API token/);
		expect(JSON.stringify(result)).not.toContain(world.sim.token);
		expect(await world.memberIds(304)).toEqual([]);
		expect(await world.stack.query('select count(*)::int as n from leads')).toEqual([{ n: leadsBefore }]);
		expect(await runLog(world, result.runId)).toMatchObject({ status: 'failed', error_class: 'configuration' });
	});

	it.each(['error', 'empty'] as const)('a segment SprintHub does not know (answered as %s): a configuration error, nothing written', async (form) => {
		world.sim.setUnknownSegment(form);
		try {
			const [{ n: leadsBefore }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads');
			const [result] = await world.engine().syncSegments([999], { trigger: 'manual' });
			expect(result.status).toBe('failed');
			expect(result.error).toMatchObject({ errorClass: 'configuration', code: 'unknown_segment' });
			expect(result.message).toMatch(/segment/i);
			expect(result.message).toMatch(/999/);
			expect(result.error?.hint).toMatch(/segment id/i);
			expect(await world.memberIds(999)).toEqual([]);
			expect(await world.stack.query('select count(*)::int as n from leads')).toEqual([{ n: leadsBefore }]);
			expect(await runLog(world, result.runId)).toMatchObject({ status: 'failed', error_class: 'configuration' });
		} finally {
			world.sim.setUnknownSegment('error');
		}
	});
});
