/**
 * The shared budget's reservations (issue 11): a take reserves several slots spaced at the account's
 * rate, so a process calls the database a few times per ten SprintHub calls instead of once or twice
 * per call; and slots reserved by a process that dies are only lost, never let the others go faster.
 */
import { Pool } from 'pg';
import { budgetAccount } from '../../engine';
import { startStack, type Stack } from '../support/stack';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

describe('takes per SprintHub call', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({
			seed: 11,
			segments: [
				{ id: 1101, name: 'At 80 a minute', size: 30 },
				{ id: 1102, name: 'At 540 a minute', size: 150 },
			],
		});
		await world.addSegments(1101, 1102);
	}, 60_000);
	afterAll(() => world?.stop());

	// Counts, not times: how many reservations a real sync made for the calls SprintHub saw.
	it.each([
		[80, 1101],
		[540, 1102],
	])('at %d a minute one process takes from the database at most once per four SprintHub calls', async (rate, segmentId) => {
		const account = budgetAccount(world.sim.baseUrl, world.sim.instance);
		await world.stack.query('select sync_set_account_rate($1, $2, $3, $4)', [account.key, account.baseUrl, account.instance, rate]);
		world.sim.resetLog();
		const engine = world.engine();
		const [result] = await engine.syncSegments([segmentId], { trigger: 'manual' });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(await world.memberIds(segmentId)).toEqual(truthMemberIds(world.sim, segmentId));
		const calls = world.sim.requests.length;
		const stats = engine.sharedBudget()?.stats();
		expect(stats).toMatchObject({ fallbacks: 0, throttled: 0 });
		expect(calls).toBeGreaterThan(25);
		expect(stats?.granted).toBe(calls);
		expect(stats?.takes).toBeLessThanOrEqual(calls / 4);
	}, 120_000);
});

describe('a dead holder of a reservation', () => {
	let stack: Stack;
	beforeAll(async () => {
		stack = await startStack();
	}, 60_000);
	afterAll(() => stack?.stop());

	it('its slots are taken from the bucket: with them, the survivors never exceed the burst capacity plus the rate over any window', async () => {
		const key = 'dead-holder|test';
		const rate = 600; // 10 a second; the bucket holds at most 3 (a quarter second, see the migration)
		const capacity = 3;
		await stack.query(`select sync_set_account_rate($1, 'http://x', 'x', $2)`, [key, rate]);
		const pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
		type Answer = { granted: number; wait_ms: number; now: string; slots_ms: number[] };
		const reserve = async (want: number): Promise<{ answer: Answer; slots: number[] }> => {
			const { rows } = await pool.query<{ answer: Answer }>(`select sync_budget_reserve($1, 'http://x', 'x', $2, 5000, $3) as answer`, [key, want, rate]);
			const answer = rows[0].answer;
			return { answer, slots: answer.slots_ms.map((offset) => Date.parse(answer.now) + offset) };
		};
		try {
			// The holder reserves as much as the horizon allows, then dies without spending any of it.
			const dead = await reserve(1_000);
			expect(dead.answer.granted).toBeGreaterThanOrEqual(50);
			expect(dead.answer.granted).toBeLessThanOrEqual(capacity + 50 + 1);
			// A survivor keeps reserving (asking again when told) until it holds 60 slots.
			const survivor: number[] = [];
			let emptyAnswers = 0;
			while (survivor.length < 60) {
				const { answer, slots } = await reserve(10);
				survivor.push(...slots);
				if (answer.granted === 0) {
					emptyAnswers++;
					await new Promise((resolve) => setTimeout(resolve, Math.max(20, answer.wait_ms)));
				}
			}
			// The survivor's slots come after the dead holder's: its reservation only made the account slower.
			expect(Math.min(...survivor)).toBeGreaterThanOrEqual(Math.max(...dead.slots));
			// Even had the dead holder spent every slot, the combined schedule stays within the bound.
			const all = [...dead.slots, ...survivor].sort((a, b) => a - b);
			for (const windowMs of [100, 1_000, 5_000]) {
				let most = 0;
				for (let i = 0, j = 0; i < all.length; i++) {
					while (all[j] <= all[i] - windowMs) j++; // slots in (t - window, t]
					most = Math.max(most, i - j + 1);
				}
				expect({ windowMs, most: most <= capacity + Math.ceil((rate * windowMs) / 60_000) }).toEqual({ windowMs, most: true });
			}
			// Asking again only when the horizon has room: a few empty answers, not one per slot.
			expect(emptyAnswers).toBeLessThanOrEqual(10);
			const [row] = await stack.query<{ granted_total: string; tokens: string }>('select granted_total, tokens from sync_account_budgets where account_key = $1', [key]);
			expect(Number(row.granted_total)).toBe(dead.answer.granted + survivor.length);
			// The deficit never goes deeper than the horizon's worth.
			expect(Number(row.tokens)).toBeGreaterThanOrEqual(-(rate * 5) / 60 - 1);
		} finally {
			await pool.end();
		}
	}, 60_000);

	it('many concurrent reservers: every slot counted once, and all their slots together within the bound', async () => {
		const key = 'concurrent-reservers|test';
		const rate = 600;
		const capacity = 3;
		await stack.query(`select sync_set_account_rate($1, 'http://x', 'x', $2)`, [key, rate]);
		const pool = new Pool({ connectionString: stack.databaseUrl, max: 16 });
		try {
			const perTaker = await Promise.all(
				Array.from({ length: 16 }, async () => {
					const slots: number[] = [];
					for (let i = 0; i < 10; i++) {
						const { rows } = await pool.query<{ answer: { now: string; slots_ms: number[] } }>(
							`select sync_budget_reserve($1, 'http://x', 'x', 5, 1000, $2) as answer`,
							[key, rate],
						);
						slots.push(...rows[0].answer.slots_ms.map((offset) => Date.parse(rows[0].answer.now) + offset));
					}
					return slots;
				}),
			);
			const all = perTaker.flat().sort((a, b) => a - b);
			const [row] = await stack.query<{ granted_total: string }>('select granted_total from sync_account_budgets where account_key = $1', [key]);
			expect(Number(row.granted_total)).toBe(all.length);
			expect(all.length).toBeGreaterThan(0);
			for (const windowMs of [100, 1_000]) {
				let most = 0;
				for (let i = 0, j = 0; i < all.length; i++) {
					while (all[j] <= all[i] - windowMs) j++;
					most = Math.max(most, i - j + 1);
				}
				// +1: slot times are whole ms, each answer's 'now' read a moment after its slots were set.
				expect({ windowMs, most: most <= capacity + Math.ceil((rate * windowMs) / 60_000) + 1 }).toEqual({ windowMs, most: true });
			}
		} finally {
			await pool.end();
		}
	}, 60_000);

	it('a rate lowered while slots are reserved does not stretch their deficit: the next slot follows the last reserved one', async () => {
		const key = 'lowered-rate|test';
		await stack.query(`select sync_set_account_rate($1, 'http://x', 'x', 6000)`, [key]);
		type Answer = { granted: number; now: string; slots_ms: number[]; wait_ms: number };
		const reserve = async (want: number) =>
			(await stack.query<{ answer: Answer }>(`select sync_budget_reserve($1, 'http://x', 'x', $2, 5000, 6000) as answer`, [key, want]))[0].answer;
		// 100 a second for 5 s: about 500 slots, a deficit of nearly 500 tokens.
		const held = await reserve(1_000);
		expect(held.granted).toBeGreaterThan(400);
		const lastSlot = Date.parse(held.now) + Math.max(...held.slots_ms);
		// Lowered to one a second: 500 tokens would take over 8 minutes to repay; the slots end within 5 s.
		await stack.query(`select sync_set_account_rate($1, 'http://x', 'x', 60)`, [key]);
		let next = await reserve(1);
		while (next.granted === 0) {
			await new Promise((resolve) => setTimeout(resolve, Math.max(20, next.wait_ms)));
			next = await reserve(1);
		}
		const nextSlot = Date.parse(next.now) + next.slots_ms[0];
		expect(nextSlot).toBeGreaterThanOrEqual(lastSlot);
		expect(nextSlot).toBeLessThanOrEqual(lastSlot + 1_000 + 50);
	}, 60_000);
});
