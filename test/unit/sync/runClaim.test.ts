import type { ClaimRow } from '../../../engine/store';
import { StoreError } from '../../../engine/store';
import { DatabaseCalls } from '../../../engine/sync/databaseCalls';
import { claimRun } from '../../../engine/sync/runClaim';

const row = (outcome: ClaimRow['outcome'], extra: Partial<ClaimRow> = {}): ClaimRow => ({
	segment_id: 7,
	outcome,
	run_id: null,
	segment_name: 'Hot',
	status: 'active',
	lease_owner: null,
	lease_expires_at: null,
	checkpoint: null,
	resumed_from: null,
	pass_id: null,
	enrichment_mode: null,
	full_refresh_days: null,
	options: null,
	last_success_at: null,
	...extra,
});

const db = new DatabaseCalls(new AbortController().signal, 0);
const noStore = {
	db,
	store: {
		claim: () => {
			throw new Error('a claimed row needs no new claim');
		},
		releaseDeadLease: async () => false,
	},
};

describe('claimRun: the run starts, or the user reads why not', () => {
	it('uses a run Sync Due already claimed', async () => {
		const claimed = row('claimed', { run_id: 'r-1' });
		expect(await claimRun(noStore, { segmentId: 7, worker: 'w', trigger: 'schedule', claimed })).toEqual({ claimed });
	});

	it.each([
		[row('busy', { lease_owner: 'host:12', lease_expires_at: '2026-12-01T10:00:00Z' }), 'skipped', 'Segment 7 is being synced by host:12 (lease until 2026-12-01T10:00:00Z); skipped.'],
		[row('paused'), 'skipped', 'Segment 7 is paused; resume it with select sync_resume_segment(7);'],
		[row('not_due'), 'skipped', 'Segment 7 is not due yet.'],
		[row('error'), 'skipped', 'Segment 7 is in status error after repeated failures; a manual run or select sync_resume_segment(7); restarts it.'],
	])('refuses %# with a message that says what to do', async (claimed, status, message) => {
		expect(await claimRun(noStore, { segmentId: 7, worker: 'w', trigger: 'manual', claimed })).toEqual({ refused: { status, message } });
	});

	it('a segment that is not registered fails with the SQL that adds it', async () => {
		const result = await claimRun({ db, store: { claim: async () => [row('unknown')], releaseDeadLease: async () => false } }, { segmentId: 7, worker: 'w', trigger: 'manual' });
		expect(result).toMatchObject({ refused: { status: 'failed', error: { errorClass: 'configuration', code: 'segment_not_registered' } } });
		expect('refused' in result && result.refused.message).toContain('select sync_add_segment(7);');
	});

	it('a database that cannot be reached fails the run with the store error in words', async () => {
		const store = {
			releaseDeadLease: async () => false,
			claim: async (): Promise<ClaimRow[]> => {
				throw new StoreError('migrations_missing', 'sync_claim: the sync tables or functions are missing', { operation: 'sync_claim', status: 404 });
			},
		};
		const result = await claimRun({ db, store }, { segmentId: 7, worker: 'w', trigger: 'manual' });
		expect(result).toMatchObject({ refused: { status: 'failed', error: { errorClass: 'configuration', code: 'database_migrations_missing' } } });
	});
});
