import { batchesOf } from '../../../engine/sync/batches';
import { mapWithConcurrency } from '../../../engine/sync/concurrency';
import { mergeLeadRecords } from '../../../engine/sync/mergeLead';

describe('mergeLeadRecords (list record + detail record)', () => {
	it('takes the detail record as the base and never lets an empty detail value wipe a list value', () => {
		const list = { id: 7, fullname: 'Ana Souza', email: 'ana@example.com', city: 'Recife', owner: { completName: 'Bruno Lima' } };
		const detail = { id: 7, fullname: null, email: '', city: 'Olinda', owner: 42, cpf: '12345678900', points: '15' };
		expect(mergeLeadRecords(list, detail)).toEqual({
			id: 7,
			fullname: 'Ana Souza',
			email: 'ana@example.com',
			city: 'Olinda',
			owner: 42,
			ownerName: 'Bruno Lima',
			cpf: '12345678900',
			points: '15',
		});
	});

	it('keeps whichever side exists when the other is missing', () => {
		expect(mergeLeadRecords({ id: 1, email: 'a@b.c' }, undefined)).toEqual({ id: 1, email: 'a@b.c' });
		expect(mergeLeadRecords(undefined, { id: 1, phone: '81' })).toEqual({ id: 1, phone: '81' });
	});
});

describe('batchesOf (rows and bytes)', () => {
	it('cuts on the row limit', () => {
		const sizes = [...batchesOf(Array.from({ length: 1201 }, (_, i) => ({ i })), { maxRows: 500, maxBytes: 10_000_000 })].map((b) => b.length);
		expect(sizes).toEqual([500, 500, 201]);
	});

	it('cuts on the byte limit, and a record larger than the limit travels alone', () => {
		const big = { text: 'x'.repeat(3000) };
		const small = { text: 'y' };
		const batches = [...batchesOf([small, big, small, small], { maxRows: 100, maxBytes: 1000 })];
		expect(batches.map((b) => b.length)).toEqual([1, 1, 2]);
		for (const batch of batches.filter((b) => b.length > 1)) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(1000);
	});
});

describe('mapWithConcurrency', () => {
	it('never has more than the limit in flight and keeps results in order', async () => {
		let inFlight = 0;
		let peak = 0;
		const results = await mapWithConcurrency(Array.from({ length: 20 }, (_, i) => i), 3, async (n) => {
			inFlight += 1;
			peak = Math.max(peak, inFlight);
			await new Promise((resolve) => setTimeout(resolve, 2 + (n % 3)));
			inFlight -= 1;
			return n * 2;
		});
		expect(peak).toBe(3);
		expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
	});

	it('stops starting work after a failure and rethrows it once the calls in flight settle', async () => {
		const started: number[] = [];
		await expect(
			mapWithConcurrency([1, 2, 3, 4, 5, 6], 2, async (n) => {
				started.push(n);
				await new Promise((resolve) => setTimeout(resolve, 5));
				if (n === 2) throw new Error('boom');
				return n;
			}),
		).rejects.toThrow('boom');
		expect(started.length).toBeLessThan(6);
	});

	it('stops when the signal fires', async () => {
		const controller = new AbortController();
		const done: number[] = [];
		const run = mapWithConcurrency(Array.from({ length: 50 }, (_, i) => i), 1, async (n) => {
			if (n === 3) controller.abort();
			done.push(n);
		}, controller.signal);
		await expect(run).rejects.toMatchObject({ errorClass: 'cancelled' });
		expect(done).toEqual([0, 1, 2, 3]);
	});
});
