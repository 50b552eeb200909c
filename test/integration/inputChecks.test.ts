import { startStack, type Stack } from '../support/stack';
import { StoreError, SyncStore } from '../../engine/store';

/**
 * Values typed into the management functions, as a user meets them: from the SQL editor (message and
 * HINT) and through the store the node and the CLI use (one message that says what to change).
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

/** The message and hint Postgres gives for a statement that must fail. */
async function refusal(sql: string, params: unknown[] = []): Promise<{ message: string; hint: string | undefined }> {
	try {
		await stack.query(sql, params);
	} catch (error) {
		const { message, hint } = error as { message: string; hint?: string };
		return { message, hint };
	}
	throw new Error(`expected "${sql}" to be refused`);
}

async function storeRefusal(call: () => Promise<unknown>): Promise<StoreError> {
	try {
		await call();
	} catch (error) {
		expect(error).toBeInstanceOf(StoreError);
		return error as StoreError;
	}
	throw new Error('expected the call to be refused');
}

describe('schedules', () => {
	test('an interval under a minute is refused everywhere a schedule is set, saying the minimum', async () => {
		await stack.query(`select sync_add_segment(9101, 'minute test', '1 hour')`);
		for (const sql of [
			`select sync_add_segment(9102, 'x', '1 microsecond')`,
			`select sync_add_segment(9101, p_schedule => '30 seconds')`,
			`select sync_reschedule_segment(9101, '1 microsecond')`,
			`update sync_segments_control set schedule = '59 seconds' where segment_id = 9101`,
		]) {
			const { message, hint } = await refusal(sql);
			expect({ sql, message }).toEqual({ sql, message: expect.stringMatching(/runs more often than once a minute/) });
			expect(hint).toContain('The shortest schedule is 1 minute');
		}
		expect(await stack.query(`select count(*)::int as n from sync_segments_control where segment_id = 9102`)).toEqual([{ n: 0 }]);
		expect(await stack.query(`select schedule from sync_segments_control where segment_id = 9101`)).toEqual([{ schedule: '1 hour' }]);

		const error = await storeRefusal(() => store.rescheduleSegment(9101, '1 microsecond'));
		expect(error.kind).toBe('invalid_argument');
		expect(error.message).toContain("the schedule '1 microsecond' runs more often than once a minute. The shortest schedule is 1 minute");
	});

	test('one minute, every minute and longer schedules are accepted', async () => {
		for (const schedule of ['1 minute', '* * * * *', '*/5 * * * *', '90 seconds', '6 hours', '@daily']) {
			const [row] = await stack.query(`select (sync_reschedule_segment(9101, $1)).schedule`, [schedule]);
			expect(row).toEqual({ schedule });
		}
	});

	test('an empty, unreadable or zone-less schedule gets a hint', async () => {
		expect(await refusal(`select sync_reschedule_segment(9101, '')`)).toEqual({ message: 'the schedule is empty', hint: expect.stringContaining("'0 6 * * *'") });
		expect(await refusal(`select sync_reschedule_segment(9101, null)`)).toMatchObject({ message: 'the schedule is empty' });
		expect(await refusal(`select sync_reschedule_segment(9101, 'every tuesday')`)).toEqual({
			message: expect.stringContaining("invalid schedule 'every tuesday'"),
			hint: expect.stringContaining('5-field cron expression'),
		});
		expect(await refusal(`select sync_add_segment(9101, p_timezone => 'Mars/Olympus')`)).toEqual({
			message: expect.stringContaining('unknown time zone'),
			hint: expect.stringContaining('IANA time zone'),
		});
	});
});

describe('full refresh days', () => {
	test('0 means never: stored as no refresh, on add, on update and by hand', async () => {
		const [added] = await stack.query(`select (sync_add_segment(9201, 'never refresh', p_full_refresh_days => 0)).full_refresh_days`);
		expect(added).toEqual({ full_refresh_days: null });
		await stack.query(`select sync_add_segment(9201, p_full_refresh_days => 7)`);
		const [updated] = await stack.query(`select (sync_add_segment(9201, p_full_refresh_days => 0)).full_refresh_days`);
		expect(updated).toEqual({ full_refresh_days: null });
		await stack.query(`update sync_segments_control set full_refresh_days = 14 where segment_id = 9201`);
		await stack.query(`update sync_segments_control set full_refresh_days = 0 where segment_id = 9201`);
		expect(await stack.query(`select full_refresh_days from sync_segments_control where segment_id = 9201`)).toEqual([{ full_refresh_days: null }]);
		// null still keeps the current value, as for every other setting.
		await stack.query(`select sync_add_segment(9201, p_full_refresh_days => 10)`);
		const [kept] = await stack.query(`select (sync_add_segment(9201, p_name => 'renamed')).full_refresh_days`);
		expect(kept).toEqual({ full_refresh_days: 10 });

		const control = await store.addSegment(9202, { name: 'through the store', fullRefreshDays: 0 });
		expect(control.full_refresh_days).toBeNull();
	});

	test('a negative number of days names the setting and the fix, not a constraint', async () => {
		expect(await refusal(`select sync_add_segment(9203, 'x', p_full_refresh_days => -1)`)).toEqual({
			message: 'p_full_refresh_days must be 0 (never) or a number of days, not -1',
			hint: expect.stringContaining('0 for never'),
		});
		expect(await refusal(`update sync_segments_control set full_refresh_days = -5 where segment_id = 9201`)).toMatchObject({
			message: 'full_refresh_days must be 0 (never) or a number of days, not -5',
		});
	});
});

describe('other segment settings', () => {
	test('failures, leave share, segment id and enrichment mode are refused with a hint', async () => {
		const cases: Array<[string, string, string]> = [
			[`select sync_add_segment(9301, p_max_consecutive_failures => 0)`, 'p_max_consecutive_failures must be at least 1, not 0', 'failed runs in a row'],
			[`select sync_add_segment(9301, p_max_leave_share => 1.5)`, 'p_max_leave_share must be between 0 and 1, not 1.5', '0.5 for half'],
			[`select sync_add_segment(-4)`, 'p_segment_id must be a positive SprintHub segment id, not -4', 'numeric id'],
			[`select sync_add_segment(9301, p_enrichment_mode => 'some')`, "p_enrichment_mode must be auto, changed, all or none, not 'some'", 'list fields only'],
			[`update sync_segments_control set max_consecutive_failures = 0 where segment_id = 9201`, 'max_consecutive_failures must be at least 1, not 0', 'e.g. 5'],
			[`update sync_segments_control set max_leave_share = -0.1 where segment_id = 9201`, 'max_leave_share must be between 0 and 1, not -0.1', 'e.g. 0.5'],
		];
		for (const [sql, message, hint] of cases) {
			expect({ sql, ...(await refusal(sql)) }).toEqual({ sql, message, hint: expect.stringContaining(hint) });
		}
		const error = await storeRefusal(() => store.addSegment(9301, { maxLeaveShare: 2 }));
		expect(error).toMatchObject({ kind: 'invalid_argument' });
		expect(error.message).toBe('sync_add_segment: p_max_leave_share must be between 0 and 1, not 2. Give the largest share of the segment one run may mark as left, e.g. 0.5 for half.');
	});
});

describe('retention settings', () => {
	test('a retention below one day is refused with what it means; NULL still keeps forever', async () => {
		expect(await refusal(`update sync_settings set log_retention_days = 0`)).toEqual({
			message: 'log_retention_days must be at least 1 day, not 0',
			hint: 'Give a number of days, e.g. 90, or NULL to keep those rows forever.',
		});
		await stack.query(`update sync_settings set left_membership_retention_days = null, quarantine_retention_days = 45`);
		expect(await stack.query(`select quarantine_retention_days from sync_settings`)).toEqual([{ quarantine_retention_days: 45 }]);
		await stack.query(`update sync_settings set quarantine_retention_days = 30`);
	});
});

describe('the schema name', () => {
	test('the store refuses a schema name that is not an identifier before any call', () => {
		for (const schema of ['sync data', 'public;drop', '1st', 'x'.repeat(64), '']) {
			let thrown: unknown;
			try {
				SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey, schema });
			} catch (error) {
				thrown = error;
			}
			expect({ schema, thrown }).toEqual({ schema, thrown: expect.any(StoreError) });
			expect((thrown as StoreError).kind).toBe('invalid_argument');
			expect((thrown as StoreError).message).toMatch(/is not a schema name/);
		}
		expect(() => SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey, schema: 'sync_v2' })).not.toThrow();
	});
});
