import { DIVERGENT_FIELDS, Simulator, startSimulator } from '../support/simulator';
import { allIds, call, getPath, leadDetail, segmentPage, withAuth } from './client';

describe('SprintHub simulator: the API surface', () => {
	let sim: Simulator;

	beforeAll(async () => {
		sim = await startSimulator({
			seed: 7,
			segments: [
				{ id: 101, name: 'Hot leads', size: 2600 },
				{ id: 102, name: 'Clientes recorrentes', size: 40 },
			],
			maxSegmentLimit: 500,
			maxLeadsLimit: 200,
			rateLimit: null,
		});
	});

	afterAll(async () => {
		await sim.close();
	});

	test('pages are 0-based, total counts the visible members, and the end is an empty page', async () => {
		const expected = sim.truth.segmentMemberIds(101);
		const first = await segmentPage(sim, 101, { page: 0, limit: 100, query: '{total,leads{id}}' });
		expect(first.status).toBe(200);
		expect(first.json.data.total).toBe(expected.length);
		expect(first.json.data.leads.map((lead: { id: number }) => lead.id)).toEqual(expected.slice(0, 100));
		const second = await segmentPage(sim, 101, { page: '1', limit: '100', query: '{total,leads{id}}' });
		expect(second.json.data.leads.map((lead: { id: number }) => lead.id)).toEqual(expected.slice(100, 200));
		expect(await allIds(sim, 101, 500)).toEqual(expected);
		const past = await segmentPage(sim, 101, { page: 99, limit: 100, query: '{total,leads{id}}' });
		expect(past.json).toEqual({ data: { total: expected.length, leads: [] } });
		// Archived and anonymous leads exist and only show up when asked for.
		const everything = sim.truth.allSegmentMemberIds(101);
		expect(everything.length).toBeGreaterThan(expected.length);
		const withHidden = await segmentPage(sim, 101, { page: 0, limit: 1, showArchived: true, showAnon: true, query: '{total}' });
		expect(withHidden.json).toEqual({ data: { total: everything.length } });
		const archivedOnly = await segmentPage(sim, 101, { page: 0, limit: 1, showArchived: true, query: '{total}' });
		expect(archivedOnly.json.data.total).toBeGreaterThan(expected.length);
		expect(archivedOnly.json.data.total).toBeLessThan(everything.length);
	});

	test('orders by createDate then id, stable across calls, and desc reverses it', async () => {
		const answer = await segmentPage(sim, 101, { page: 0, limit: 500, query: '{leads{id,createDate}}' });
		const leads: { id: number; createDate: string }[] = answer.json.data.leads;
		let ties = 0;
		for (let index = 1; index < leads.length; index++) {
			const previous = leads[index - 1];
			const current = leads[index];
			expect(current.createDate >= previous.createDate).toBe(true);
			if (current.createDate === previous.createDate) {
				ties++;
				expect(current.id).toBeGreaterThan(previous.id);
			}
		}
		expect(ties).toBeGreaterThan(0);
		const again = await segmentPage(sim, 101, { page: 0, limit: 500, query: '{leads{id,createDate}}' });
		expect(again.json.data.leads).toEqual(leads);
		const expected = sim.truth.segmentMemberIds(101);
		const descending = await segmentPage(sim, 101, { page: 0, limit: 50, orderByKey: 'createDate', orderByDirection: 'desc', query: '{leads{id}}' });
		expect(descending.json.data.leads.map((lead: { id: number }) => lead.id)).toEqual(expected.slice(-50).reverse());
	});

	test('the query projects data and every lead, nested selections included', async () => {
		const idsOnly = await segmentPage(sim, 101, { page: 0, limit: 5, query: '{total,leads{id}}' });
		expect(Object.keys(idsOnly.json.data).sort()).toEqual(['leads', 'total']);
		for (const lead of idsOnly.json.data.leads) expect(Object.keys(lead)).toEqual(['id']);

		const leadsOnly = await segmentPage(sim, 101, { page: 0, limit: 40, query: '{leads{id,updatedDate,owner{completName},fullname}}' });
		expect(Object.keys(leadsOnly.json.data)).toEqual(['leads']);
		for (const lead of leadsOnly.json.data.leads) {
			expect(Object.keys(lead).sort()).toEqual(['fullname', 'id', 'owner', 'updatedDate']);
			if (lead.owner !== null) expect(Object.keys(lead.owner)).toEqual(['completName']);
			expect(lead.updatedDate).toBe(sim.truth.lead(lead.id)!.updatedDate);
		}

		const custom = sim.truth.customFieldAliases()[0];
		const withCustom = await segmentPage(sim, 101, { page: 0, limit: 3, query: `{total,leads{id,${custom},noSuchField}}` });
		for (const lead of withCustom.json.data.leads) expect(Object.keys(lead).sort()).toEqual([custom, 'id'].sort());

		const defaultShape = await segmentPage(sim, 101, { page: 0, limit: 2 });
		expect(defaultShape.json.data.total).toBe(sim.truth.segmentMemberIds(101).length);
		expect(Object.keys(defaultShape.json.data.leads[0])).toEqual(
			expect.arrayContaining(['id', 'fullname', 'email', 'owner', 'createDate', 'updatedDate', 'lastActive', 'archived']),
		);

		const malformed = await segmentPage(sim, 101, { page: 0, limit: 2, query: '{total,leads{id}' });
		expect(malformed.status).toBe(400);
		expect(malformed.json.msg).toMatch(/query/i);
	});

	test('a limit above the largest honoured one is silently capped', async () => {
		const answer = await segmentPage(sim, 101, { page: 0, limit: 1000, query: '{total,leads{id}}' });
		expect(answer.status).toBe(200);
		expect(answer.json.data.leads).toHaveLength(500);
		const page1 = await segmentPage(sim, 101, { page: 1, limit: 1000, query: '{total,leads{id}}' });
		// Page 1 of a capped call is the 500 after the first 500: the cap applies to the offset too.
		expect(page1.json.data.leads.map((lead: { id: number }) => lead.id)).toEqual(sim.truth.segmentMemberIds(101).slice(500, 1000));
		sim.setMaxLimits({ segment: 100 });
		try {
			const capped = await segmentPage(sim, 101, { page: 0, limit: 1000, query: '{leads{id}}' });
			expect(capped.json.data.leads).toHaveLength(100);
		} finally {
			sim.setMaxLimits({ segment: 500 });
		}
	});

	test('lead records have the loose types of the real API', async () => {
		const ids = sim.truth.segmentMemberIds(101).slice(0, 400);
		const details = ids.map((id) => sim.truth.lead(id)!);
		const list = await segmentPage(sim, 101, { page: 0, limit: 400, query: '{leads{id,owner,createdBy,fullname,points}}' });
		const valuesOf = (field: string): unknown[] => details.map((lead) => lead[field]);
		const some = (field: string, test: (value: unknown) => boolean): boolean => valuesOf(field).some(test);
		const isDigits = (value: unknown): boolean => typeof value === 'string' && /^\d+$/.test(value);

		expect(some('points', isDigits)).toBe(true);
		expect(some('points', (value) => typeof value === 'number')).toBe(true);
		expect(some('points', (value) => value === '')).toBe(true);
		expect(some('lastActive', (value) => value === null)).toBe(true);
		expect(some('lastActive', (value) => value === '')).toBe(true);
		expect(some('lastActive', (value) => typeof value === 'string' && value !== '' && Number.isNaN(Date.parse(value)))).toBe(true);
		expect(some('lastActive', (value) => typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value))).toBe(true);
		expect(some('owner', (value) => typeof value === 'number')).toBe(true);
		expect(valuesOf('owner').every((value) => value === null || typeof value === 'number')).toBe(true);
		expect(some('createdBy', (value) => typeof value === 'number')).toBe(true);
		expect(some('createdBy', isDigits)).toBe(true);
		expect(some('createdBy', (value) => typeof value === 'string' && /^[a-z]{1,4}$/.test(value))).toBe(true);
		expect(some('createdByUtm', (value) => Array.isArray(value))).toBe(true);
		expect(some('createdByUtm', (value) => typeof value === 'object' && value !== null && !Array.isArray(value))).toBe(true);
		expect(some('thirdPartyData', (value) => typeof value === 'object' && value !== null && Object.values(value).some((inner) => typeof inner === 'object'))).toBe(true);
		expect(some('ips', (value) => Array.isArray(value) && value.length > 0)).toBe(true);
		expect(some('email', (value) => value === '')).toBe(true);
		for (const lead of details) {
			expect(typeof lead.id).toBe('number');
			expect(Date.parse(lead.createDate as string)).not.toBeNaN();
			expect(Date.parse(lead.updatedDate as string)).toBeGreaterThanOrEqual(Date.parse(lead.createDate as string));
			expect(lead).not.toHaveProperty('fullname');
		}
		// Custom fields: a dozen or more snake_case aliases, present on every lead, with loose types.
		const aliases = sim.truth.customFieldAliases();
		expect(aliases.length).toBeGreaterThanOrEqual(12);
		for (const alias of aliases) expect(alias).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
		const missing = details.flatMap((lead) => aliases.filter((alias) => !(alias in lead)).map((alias) => `${String(lead.id)}.${alias}`));
		expect(missing).toEqual([]);
		const customTypes = new Set(details.flatMap((lead) => aliases.map((alias) => (lead[alias] === null ? 'null' : Array.isArray(lead[alias]) ? 'array' : typeof lead[alias]))));
		expect([...customTypes].sort()).toEqual(expect.arrayContaining(['null', 'string', 'number', 'boolean']));

		// In lists owner is {completName}; the detail has the user id.
		for (const listed of list.json.data.leads) {
			const detail = sim.truth.lead(listed.id)!;
			if (detail.owner === null) expect(listed.owner).toBeNull();
			else expect(listed.owner).toEqual({ completName: expect.any(String) });
			expect(listed.createdBy).toEqual(detail.createdBy);
			expect(listed.points).toEqual(detail.points);
		}
	});

	test('the detail returns every field, 404 for unknown ids, and disagrees with lists about nulls for some leads', async () => {
		const id = sim.truth.segmentMemberIds(101)[3];
		const detail = await leadDetail(sim, id);
		expect(detail.status).toBe(200);
		expect(detail.json).toEqual({ data: { lead: sim.truth.lead(id) } });
		expect(Object.keys(detail.json.data.lead).length).toBeGreaterThan(40);
		const short = await leadDetail(sim, id, false);
		expect(Object.keys(short.json.data.lead).length).toBeLessThan(20);

		const unknown = await leadDetail(sim, 1);
		expect(unknown.status).toBe(404);
		expect(unknown.json.msg).toEqual(expect.any(String));
		expect(sim.truth.lead(1)).toBeUndefined();
		const malformed = await leadDetail(sim, 'abc');
		expect(malformed.status).toBe(400);

		// Some leads: the list has a value where the detail has null, and the reverse.
		const members = sim.truth.segmentMemberIds(101);
		const fields = DIVERGENT_FIELDS.join(',');
		const page = await segmentPage(sim, 101, { page: 0, limit: 500, query: `{leads{id,${fields}}}` });
		let listFilledDetailNull = 0;
		let detailFilledListNull = 0;
		for (const listed of page.json.data.leads) {
			const full = sim.truth.lead(listed.id)!;
			for (const field of DIVERGENT_FIELDS) {
				const inList = listed[field];
				const inDetail = full[field];
				if (inDetail === null && inList !== null && inList !== '') listFilledDetailNull++;
				if (inList === null && inDetail !== null && inDetail !== '') detailFilledListNull++;
			}
		}
		expect(members.length).toBeGreaterThan(500);
		expect(listFilledDetailNull).toBeGreaterThan(0);
		expect(detailFilledListNull).toBeGreaterThan(0);
	});

	test('segments list in both shapes, with projection and paging', async () => {
		const bare = await getPath(sim, '/segments');
		expect(bare.status).toBe(200);
		expect(Array.isArray(bare.json)).toBe(true);
		expect(bare.json.map((segment: { id: number }) => segment.id)).toEqual([101, 102]);
		const hot = bare.json[0];
		expect(hot).toMatchObject({ id: 101, name: 'Hot leads', alias: 'hot-leads', isPublished: true, category: { id: expect.any(Number), title: expect.any(String) } });
		expect(hot.totalLeads).toBe(sim.truth.segmentMemberIds(101).length);
		expect(Date.parse(hot.lastLeadUpdate)).not.toBeNaN();
		expect(Date.parse(hot.createDate)).not.toBeNaN();

		sim.setSegmentsShape('wrapped');
		try {
			const wrapped = await getPath(sim, `/segments?query=${encodeURIComponent('{segments{id,name,totalLeads}}')}`);
			expect(wrapped.json).toEqual({
				data: {
					segments: [
						{ id: 101, name: 'Hot leads', totalLeads: hot.totalLeads },
						{ id: 102, name: 'Clientes recorrentes', totalLeads: sim.truth.segmentMemberIds(102).length },
					],
				},
			});
			const paged = await getPath(sim, '/segments?page=1&limit=1');
			expect(paged.json.data.segments.map((segment: { id: number }) => segment.id)).toEqual([102]);
		} finally {
			sim.setSegmentsShape('array');
		}
	});

	test('GET /leads pages through the whole account with its own cap', async () => {
		const all = sim.truth.allLeadIds();
		const first = await getPath(sim, '/leads?page=0&limit=1000');
		expect(first.status).toBe(200);
		expect(first.json.data.total).toBe(all.length);
		expect(first.json.data.leads.map((lead: { id: number }) => lead.id)).toEqual(all.slice(0, 200));
		expect(typeof first.json.data.leads[0].owner === 'object').toBe(true);
		const full = await getPath(sim, '/leads?page=2&limit=50&allFields=1');
		expect(full.json.data.leads).toEqual(all.slice(100, 150).map((id) => sim.truth.lead(id)));
	});

	test('authentication: three token forms accepted, each failure with its own message', async () => {
		for (const form of ['query', 'header', 'bearer'] as const) {
			const answer = await segmentPage(sim, 102, { page: 0, limit: 1, query: '{total}' }, form);
			expect(answer.status).toBe(200);
		}
		// Production sends the query parameter and the header together.
		const both = withAuth(sim, '/segments', 'query');
		expect((await call(both.url, { headers: { apitoken: sim.token } })).status).toBe(200);

		const missingInstance = withAuth(sim, '/segments', 'query', sim.token, null);
		const noInstance = await call(missingInstance.url);
		expect(noInstance.status).toBe(400);
		expect(noInstance.json.msg).toBe('Cliente não definido');

		const wrongInstance = withAuth(sim, '/segments', 'query', sim.token, 'other-account');
		const badInstance = await call(wrongInstance.url);
		expect(badInstance.status).toBe(401);
		expect(badInstance.json.msg).not.toMatch(/too many requests/i);

		for (const form of ['query', 'header', 'bearer'] as const) {
			const wrong = withAuth(sim, '/segments', form, '00000000-0000-4000-8000-000000000000');
			const answer = await call(wrong.url, { headers: wrong.headers });
			expect(answer.status).toBe(401);
			expect(answer.json.msg).toBe('Token inválido');
		}
		const staleNextToGood = withAuth(sim, '/segments', 'query');
		expect((await call(staleNextToGood.url, { headers: { apitoken: 'stale' } })).status).toBe(401);
		const none = withAuth(sim, '/segments', 'none');
		const noToken = await call(none.url);
		expect(noToken.status).toBe(401);
		expect(noToken.json.msg).not.toMatch(/too many requests/i);
		for (const answer of [badInstance, noToken]) expect(answer.text).not.toContain(sim.token);
	});

	test('an unknown segment is an error or an empty result, as configured', async () => {
		const error = await segmentPage(sim, 999, { page: 0, limit: 10, query: '{total,leads{id}}' });
		expect(error.status).toBe(404);
		expect(error.json.msg).toMatch(/segmento/i);
		sim.setUnknownSegment('empty');
		try {
			const empty = await segmentPage(sim, 999, { page: 0, limit: 10, query: '{total,leads{id}}' });
			expect(empty.status).toBe(200);
			expect(empty.json).toEqual({ data: { total: 0, leads: [] } });
		} finally {
			sim.setUnknownSegment('error');
		}
		const invalid = await segmentPage(sim, 'abc', { page: 0, limit: 10 });
		expect(invalid.status).toBe(400);
	});

	test('the same seed gives the same account; another seed a different one', async () => {
		const twin = await startSimulator({ seed: 7, segments: [{ id: 101, name: 'Hot leads', size: 2600 }, { id: 102, name: 'Clientes recorrentes', size: 40 }], maxSegmentLimit: 500, rateLimit: null });
		const other = await startSimulator({ seed: 8, segments: [{ id: 101, name: 'Hot leads', size: 2600 }], rateLimit: null });
		try {
			expect(twin.token).toBe(sim.token);
			const body = { page: 2, limit: 50 };
			const mine = await segmentPage(sim, 101, body);
			const theirs = await segmentPage(twin, 101, body);
			expect(theirs.text).toBe(mine.text);
			const id = sim.truth.segmentMemberIds(101)[10];
			expect((await leadDetail(twin, id)).text).toBe((await leadDetail(sim, id)).text);
			expect(other.truth.segmentMemberIds(101)).not.toEqual(sim.truth.segmentMemberIds(101));
			expect(other.token).not.toBe(sim.token);
			expect(other.truth.customFieldAliases()).not.toEqual(sim.truth.customFieldAliases());
		} finally {
			await twin.close();
			await other.close();
		}
	});
});
