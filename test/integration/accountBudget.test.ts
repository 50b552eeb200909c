/**
 * The account's SprintHub budget shared through the database (issue 11): the RPC under many concurrent
 * takers, throttles seen by one process pausing another, the per-run rate only lowering the account's,
 * and the fallback when the database cannot be reached.
 */
import { Pool } from 'pg';
import { SharedRateBudget, SyncStore, budgetAccount, type BudgetNotice } from '../../engine';
import { ManualClock } from '../support/manualClock';
import { freePort, waitFor } from '../support/net';
import { startStack, type Stack } from '../support/stack';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

const ACCOUNT = budgetAccount('http://127.0.0.1:9', 'budget-test');

describe('the shared budget RPC', () => {
	let stack: Stack;
	let store: SyncStore;
	beforeAll(async () => {
		stack = await startStack();
		store = SyncStore.connect({ url: stack.supabaseUrl, serviceRoleKey: stack.serviceRoleKey });
	}, 60_000);
	afterAll(() => stack?.stop());

	it('many concurrent takers: every grant is counted once and no more tokens go out than the bucket had', async () => {
		const key = 'concurrency|test';
		// 600 per minute: 10 tokens a second, at most 3 piled up (a quarter second, rounded up).
		await stack.query(`select sync_set_account_rate($1, 'http://x', 'x', 600)`, [key]);
		const pool = new Pool({ connectionString: stack.databaseUrl, max: 16 });
		try {
			const started = Date.now();
			const answers = await Promise.all(
				Array.from({ length: 16 }, async () => {
					let granted = 0;
					for (let i = 0; i < 25; i++) {
						const { rows } = await pool.query<{ answer: { granted: number } }>(`select sync_budget_take($1, 'http://x', 'x', 3, 600) as answer`, [key]);
						granted += rows[0].answer.granted;
					}
					return granted;
				}),
			);
			const elapsedSeconds = (Date.now() - started) / 1000;
			const granted = answers.reduce((sum, n) => sum + n, 0);
			const [row] = await stack.query<{ granted_total: string }>('select granted_total from sync_account_budgets where account_key = $1', [key]);
			// No lost update: the row counted exactly what the takers were given.
			expect(Number(row.granted_total)).toBe(granted);
			expect(granted).toBeGreaterThan(0);
			// Never more than the bucket's capacity and what accrued meanwhile.
			expect(granted).toBeLessThanOrEqual(3 + Math.ceil(elapsedSeconds * 10));
		} finally {
			await pool.end();
		}
	}, 60_000);

	it('a throttle seen by one process pauses another and halves the account rate', async () => {
		await store.setAccountRate(ACCOUNT, 600);
		const notices: BudgetNotice[] = [];
		const first = new SharedRateBudget({ store, account: ACCOUNT, requestsPerMinute: 600, onNotice: (n) => notices.push(n) });
		const second = new SharedRateBudget({ store, account: ACCOUNT, requestsPerMinute: 600 });
		try {
			const ticket = await first.acquire();
			first.reportThrottle(ticket, 60_000);
			await waitFor('the throttle to reach the database', async () => {
				const [row] = await stack.query<{ paused_until: Date | null }>('select paused_until from sync_account_budgets where account_key = $1', [ACCOUNT.key]);
				return row.paused_until && row.paused_until.getTime() > Date.now() ? true : undefined;
			}, 10_000);
			// The other process learns it at its next take: it waits, at half the rate.
			const waiting = new AbortController();
			const pending = second.acquire(waiting.signal).catch((error: Error) => error);
			await waitFor('the second process to see the pause', async () => (second.stats().pausedUntil !== null ? true : undefined), 10_000);
			expect(second.currentRequestsPerMinute).toBe(300);
			waiting.abort();
			expect(await pending).toMatchObject({ errorClass: 'cancelled' });
			const [row] = await stack.query<{ current_per_minute: string; rate_decreases_total: string; throttled_total: string }>(
				'select current_per_minute, rate_decreases_total, throttled_total from sync_account_budgets where account_key = $1',
				[ACCOUNT.key],
			);
			expect(row).toMatchObject({ rate_decreases_total: '1', throttled_total: '1' });
			expect(Number(row.current_per_minute)).toBe(300);
			expect(notices).toEqual([]);
		} finally {
			first.close();
			second.close();
		}
	}, 30_000);

	it("a run's own rate only lowers the account's", async () => {
		const account = budgetAccount('http://127.0.0.1:9', 'lowering');
		await store.setAccountRate(account, 120);
		const fast = new SharedRateBudget({ store, account, requestsPerMinute: 60_000 });
		const slow = new SharedRateBudget({ store, account, requestsPerMinute: 30 });
		const unsaid = new SharedRateBudget({ store, account });
		try {
			await fast.acquire();
			await slow.acquire();
			await unsaid.acquire();
			expect(fast.configuredRequestsPerMinute).toBe(120);
			expect(slow.configuredRequestsPerMinute).toBe(30);
			// A run that names no rate takes the account's, not the default 80.
			expect(unsaid.configuredRequestsPerMinute).toBe(120);
		} finally {
			fast.close();
			slow.close();
			unsaid.close();
		}
	}, 30_000);

	it('the account rate is set and unset from SQL and from the store; a bad rate is refused', async () => {
		const account = budgetAccount('https://sprinthub-api-master.sprinthub.app/', 'Acme');
		expect(account).toEqual({ key: 'https://sprinthub-api-master.sprinthub.app|acme', baseUrl: 'https://sprinthub-api-master.sprinthub.app', instance: 'Acme' });
		expect(await store.setAccountRate(account, 540)).toMatchObject({ requests_per_minute: 540 });
		await stack.query(`update sync_account_budgets set requests_per_minute = 90 where instance = 'Acme'`);
		expect((await store.accountBudgets(account.key))[0]).toMatchObject({ requests_per_minute: 90 });
		expect(await store.setAccountRate(account, null)).toMatchObject({ requests_per_minute: null });
		await expect(store.setAccountRate(account, 0)).rejects.toThrow(/requests per minute must be from 1 to 1000000/);
	}, 30_000);
});

describe('the shared budget when the database cannot be reached', () => {
	it('falls back to a share of the rate, says so, and stays within that share', async () => {
		// A real supabase-js client against a port nobody listens on.
		const deadStore = SyncStore.connect({ url: `http://127.0.0.1:${await freePort()}`, serviceRoleKey: 'unused' });
		const clock = new ManualClock();
		const notices: BudgetNotice[] = [];
		const budget = new SharedRateBudget({ store: deadStore, account: ACCOUNT, requestsPerMinute: 120, fallbackShare: 0.25, clock, onNotice: (n) => notices.push(n) });
		let granted = 0;
		const stop = new AbortController();
		const takers = Array.from({ length: 4 }, async () => {
			for (;;) {
				try {
					await budget.acquire(stop.signal);
				} catch {
					return;
				}
				granted++;
			}
		});
		try {
			await waitFor('the fallback', async () => (budget.fallingBack ? true : undefined), 10_000);
			expect(notices).toEqual([expect.objectContaining({ mode: 'fallback', requestsPerMinute: 30, message: expect.stringMatching(/cannot be reached.*30 requests\/min/) })]);
			const before = granted;
			// One simulated minute: 30 calls, plus the fallback budget's burst of 2.
			for (let second = 0; second < 60; second++) await clock.advance(1_000);
			expect(granted - before).toBeGreaterThanOrEqual(29);
			expect(granted - before).toBeLessThanOrEqual(32);
		} finally {
			stop.abort();
			budget.close();
			await Promise.all(takers);
		}
	}, 30_000);
});

describe('a sync whose database has no budget functions (migration not applied)', () => {
	let world: SyncWorld;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 7, segments: [{ id: 701, name: 'Fallback', size: 60 }] });
		await world.addSegments(701);
		await world.stack.query('drop function public.sync_budget_reserve(text, text, text, integer, integer, numeric, integer, bigint)');
		await world.stack.reloadSchema();
	}, 60_000);
	afterAll(() => world?.stop());

	it('completes on the fallback share, says so in its progress, and stays within that share', async () => {
		const messages: string[] = [];
		world.sim.resetLog();
		const [result] = await world.engine({ requestsPerMinute: 2_400, sharedBudget: { fallbackShare: 0.25 } }).syncSegments([701], {
			trigger: 'manual',
			onProgress: (event) => event.type === 'budget' && messages.push(event.message),
		});
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(await world.memberIds(701)).toEqual(truthMemberIds(world.sim, 701));
		expect(messages[0]).toMatch(/shared SprintHub budget in the database cannot be reached.*600 requests\/min/);
		// 600 a minute is 10 a second: however long the run took, no more than that plus a burst of 2.
		const times = world.sim.requests.map((entry) => entry.startedAt);
		const spanSeconds = (Math.max(...times) - Math.min(...times)) / 1000;
		expect(times.length).toBeLessThanOrEqual(2 + Math.ceil(spanSeconds * 10) + 1);
	}, 60_000);
});
