import { startStack, type Stack } from '../support/stack';

/**
 * Schedules across daylight-saving changes, in real Postgres with its time zone database: when each
 * cron and interval form fires through America/New_York's 2026 changes (spring forward 8 March
 * 02:00 EST -> 03:00 EDT, fall back 1 November 02:00 EDT -> 01:00 EST) and through
 * America/Sao_Paulo's last ones (spring forward 4 November 2018 00:00 -> 01:00, fall back
 * 17 February 2019 00:00 -> 16 February 23:00). The rules are in the README ("Schedules and
 * daylight saving").
 */

let stack: Stack;

beforeAll(async () => {
	stack = await startStack();
});
afterAll(async () => {
	await stack?.stop();
});

/** The next `count` firings after `after`, each as UTC and as the zone's wall clock with its offset. */
async function firings(schedule: string, after: string, timezone: string, count: number): Promise<string[]> {
	const result: string[] = [];
	let at = after;
	for (let i = 0; i < count; i++) {
		const [row] = await stack.query<{ next: Date; local: string }>(
			`select n as next, to_char(n at time zone $3, 'MM-DD HH24:MI') || ' ' ||
				to_char((n at time zone $3) - (n at time zone 'UTC'), 'HH24:MI') as local
			 from sync_next_execution($1, $2::timestamptz, $3) as n`,
			[schedule, at, timezone],
		);
		at = row.next.toISOString();
		result.push(`${at.slice(5, 16).replace('T', ' ')}Z = ${row.local}`);
	}
	return result;
}

const NY = 'America/New_York';
const SP = 'America/Sao_Paulo';

describe('fall back in America/New_York (01:00-01:59 happens twice)', () => {
	test('*/15 fires every 15 minutes through both passes of the repeated hour', async () => {
		// The reported case: from 01:20 EDT the next firing was 01:30 EST, 70 minutes later.
		expect(await firings('*/15 * * * *', '2026-11-01T05:20:00Z', NY, 8)).toEqual([
			'11-01 05:30Z = 11-01 01:30 -04:00',
			'11-01 05:45Z = 11-01 01:45 -04:00',
			'11-01 06:00Z = 11-01 01:00 -05:00',
			'11-01 06:15Z = 11-01 01:15 -05:00',
			'11-01 06:30Z = 11-01 01:30 -05:00',
			'11-01 06:45Z = 11-01 01:45 -05:00',
			'11-01 07:00Z = 11-01 02:00 -05:00',
			'11-01 07:15Z = 11-01 02:15 -05:00',
		]);
	});

	test('@hourly and "0 * * * *" fire every hour, the repeated 01:00 twice', async () => {
		for (const schedule of ['@hourly', '0 * * * *']) {
			expect(await firings(schedule, '2026-11-01T04:10:00Z', NY, 4)).toEqual([
				'11-01 05:00Z = 11-01 01:00 -04:00',
				'11-01 06:00Z = 11-01 01:00 -05:00',
				'11-01 07:00Z = 11-01 02:00 -05:00',
				'11-01 08:00Z = 11-01 03:00 -05:00',
			]);
		}
	});

	test('"* 1 * * *" fires every minute of both passes of the 1 o\'clock hour (120 firings)', async () => {
		const all = await firings('* 1 * * *', '2026-11-01T04:30:00Z', NY, 121);
		expect(all[0]).toBe('11-01 05:00Z = 11-01 01:00 -04:00');
		expect(all[59]).toBe('11-01 05:59Z = 11-01 01:59 -04:00');
		expect(all[60]).toBe('11-01 06:00Z = 11-01 01:00 -05:00');
		expect(all[119]).toBe('11-01 06:59Z = 11-01 01:59 -05:00');
		expect(all[120]).toBe('11-02 06:00Z = 11-02 01:00 -05:00');
	});

	test('a fixed time in the repeated hour fires once, at its first occurrence', async () => {
		expect(await firings('30 1 * * *', '2026-10-31T12:00:00Z', NY, 3)).toEqual([
			'11-01 05:30Z = 11-01 01:30 -04:00',
			'11-02 06:30Z = 11-02 01:30 -05:00',
			'11-03 06:30Z = 11-03 01:30 -05:00',
		]);
		// Asked again during the second pass (after a run that took a while), it does not fire again.
		expect(await firings('30 1 * * *', '2026-11-01T06:20:00Z', NY, 1)).toEqual(['11-02 06:30Z = 11-02 01:30 -05:00']);
		expect(await firings('0,30 1-2 * * sun', '2026-10-31T12:00:00Z', NY, 5)).toEqual([
			'11-01 05:00Z = 11-01 01:00 -04:00',
			'11-01 05:30Z = 11-01 01:30 -04:00',
			'11-01 07:00Z = 11-01 02:00 -05:00',
			'11-01 07:30Z = 11-01 02:30 -05:00',
			'11-08 06:00Z = 11-08 01:00 -05:00',
		]);
	});

	test('@daily and @weekly stay at local midnight on both sides', async () => {
		expect(await firings('@daily', '2026-10-31T12:00:00Z', NY, 3)).toEqual([
			'11-01 04:00Z = 11-01 00:00 -04:00',
			'11-02 05:00Z = 11-02 00:00 -05:00',
			'11-03 05:00Z = 11-03 00:00 -05:00',
		]);
		expect(await firings('@weekly', '2026-10-30T12:00:00Z', NY, 2)).toEqual([
			'11-01 04:00Z = 11-01 00:00 -04:00',
			'11-08 05:00Z = 11-08 00:00 -05:00',
		]);
	});

	test('intervals: hours are elapsed time, days keep the wall-clock time', async () => {
		expect(await firings('6 hours', '2026-11-01T03:00:00Z', NY, 2)).toEqual([
			'11-01 09:00Z = 11-01 04:00 -05:00',
			'11-01 15:00Z = 11-01 10:00 -05:00',
		]);
		expect(await firings('15 minutes', '2026-11-01T05:50:00Z', NY, 2)).toEqual([
			'11-01 06:05Z = 11-01 01:05 -05:00',
			'11-01 06:20Z = 11-01 01:20 -05:00',
		]);
		expect(await firings('1 day', '2026-10-31T13:00:00Z', NY, 2)).toEqual([
			'11-01 14:00Z = 11-01 09:00 -05:00',
			'11-02 14:00Z = 11-02 09:00 -05:00',
		]);
		expect(await firings('1 week', '2026-10-29T13:00:00Z', NY, 1)).toEqual(['11-05 14:00Z = 11-05 09:00 -05:00']);
		expect(await firings('1 day', '2026-10-31T05:30:00Z', NY, 1)).toEqual(['11-01 05:30Z = 11-01 01:30 -04:00']);
	});
});

describe('spring forward in America/New_York (02:00-02:59 does not happen)', () => {
	test('*/15 and @hourly go on in elapsed time, the skipped slots do not fire', async () => {
		expect(await firings('*/15 * * * *', '2026-03-08T06:20:00Z', NY, 4)).toEqual([
			'03-08 06:30Z = 03-08 01:30 -05:00',
			'03-08 06:45Z = 03-08 01:45 -05:00',
			'03-08 07:00Z = 03-08 03:00 -04:00',
			'03-08 07:15Z = 03-08 03:15 -04:00',
		]);
		expect(await firings('@hourly', '2026-03-08T05:30:00Z', NY, 3)).toEqual([
			'03-08 06:00Z = 03-08 01:00 -05:00',
			'03-08 07:00Z = 03-08 03:00 -04:00',
			'03-08 08:00Z = 03-08 04:00 -04:00',
		]);
	});

	test('a fixed time in the gap fires once, at the first instant after it', async () => {
		expect(await firings('30 2 * * *', '2026-03-07T12:00:00Z', NY, 3)).toEqual([
			'03-08 07:00Z = 03-08 03:00 -04:00',
			'03-09 06:30Z = 03-09 02:30 -04:00',
			'03-10 06:30Z = 03-10 02:30 -04:00',
		]);
		expect(await firings('0,30 2 * * *', '2026-03-07T12:00:00Z', NY, 3)).toEqual([
			'03-08 07:00Z = 03-08 03:00 -04:00',
			'03-09 06:00Z = 03-09 02:00 -04:00',
			'03-09 06:30Z = 03-09 02:30 -04:00',
		]);
		expect(await firings('30 3 * * *', '2026-03-07T12:00:00Z', NY, 2)).toEqual([
			'03-08 07:30Z = 03-08 03:30 -04:00',
			'03-09 07:30Z = 03-09 03:30 -04:00',
		]);
	});

	test('intervals: hours are elapsed time, days keep the wall-clock time (a skipped one fires after the gap)', async () => {
		expect(await firings('6 hours', '2026-03-08T04:00:00Z', NY, 2)).toEqual([
			'03-08 10:00Z = 03-08 06:00 -04:00',
			'03-08 16:00Z = 03-08 12:00 -04:00',
		]);
		expect(await firings('1 day', '2026-03-07T14:00:00Z', NY, 2)).toEqual([
			'03-08 13:00Z = 03-08 09:00 -04:00',
			'03-09 13:00Z = 03-09 09:00 -04:00',
		]);
		expect(await firings('1 day', '2026-03-07T07:30:00Z', NY, 1)).toEqual(['03-08 07:00Z = 03-08 03:00 -04:00']);
		expect(await firings('1 mon', '2026-02-08T07:30:00Z', NY, 1)).toEqual(['03-08 07:00Z = 03-08 03:00 -04:00']);
	});

	test('the session time zone does not change the answer', async () => {
		const inUtc = await firings('1 day', '2026-03-07T14:00:00Z', NY, 1);
		await stack.query(`set time zone 'Asia/Tokyo'`);
		try {
			expect(await firings('1 day', '2026-03-07T14:00:00Z', NY, 1)).toEqual(inUtc);
			expect(await firings('*/15 * * * *', '2026-11-01T05:20:00Z', NY, 1)).toEqual(['11-01 05:30Z = 11-01 01:30 -04:00']);
		} finally {
			await stack.query(`reset time zone`);
		}
	});
});

describe('America/Sao_Paulo, historic changes at midnight', () => {
	test('spring forward 2018-11-04: midnight does not exist, @daily fires at 01:00 that day', async () => {
		expect(await firings('@daily', '2018-11-02T12:00:00Z', SP, 3)).toEqual([
			'11-03 03:00Z = 11-03 00:00 -03:00',
			'11-04 03:00Z = 11-04 01:00 -02:00',
			'11-05 02:00Z = 11-05 00:00 -02:00',
		]);
		expect(await firings('*/30 * * * *', '2018-11-04T02:10:00Z', SP, 3)).toEqual([
			'11-04 02:30Z = 11-03 23:30 -03:00',
			'11-04 03:00Z = 11-04 01:00 -02:00',
			'11-04 03:30Z = 11-04 01:30 -02:00',
		]);
		expect(await firings('1 day', '2018-11-03T03:00:00Z', SP, 2)).toEqual([
			'11-04 03:00Z = 11-04 01:00 -02:00',
			'11-05 03:00Z = 11-05 01:00 -02:00',
		]);
	});

	test('fall back 2019-02-17: 23:00-23:59 of the 16th happens twice', async () => {
		expect(await firings('*/30 * * * *', '2019-02-17T01:10:00Z', SP, 5)).toEqual([
			'02-17 01:30Z = 02-16 23:30 -02:00',
			'02-17 02:00Z = 02-16 23:00 -03:00',
			'02-17 02:30Z = 02-16 23:30 -03:00',
			'02-17 03:00Z = 02-17 00:00 -03:00',
			'02-17 03:30Z = 02-17 00:30 -03:00',
		]);
		expect(await firings('30 23 * * *', '2019-02-15T12:00:00Z', SP, 3)).toEqual([
			'02-16 01:30Z = 02-15 23:30 -02:00',
			'02-17 01:30Z = 02-16 23:30 -02:00',
			'02-18 02:30Z = 02-17 23:30 -03:00',
		]);
		expect(await firings('@daily', '2019-02-16T12:00:00Z', SP, 2)).toEqual([
			'02-17 03:00Z = 02-17 00:00 -03:00',
			'02-18 03:00Z = 02-18 00:00 -03:00',
		]);
		expect(await firings('12 hours', '2019-02-16T20:00:00Z', SP, 1)).toEqual(['02-17 08:00Z = 02-17 05:00 -03:00']);
	});
});
