import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { SyncStore } from '../../engine/store';
import { isDeadLocalHolder } from '../../engine/sync/deadHolders';
import { startSyncWorld, truthMemberIds, type SyncWorld } from '../support/world';

/** A pid of this host that no longer exists: a child that has already exited. */
function deadPid(): number {
	const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
	return Number(child.stdout);
}

/**
 * A process killed while holding a segment (SIGKILL, OOM) no longer blocks it for the whole lease:
 * an engine on the same host sees that the holder's process is gone and takes the segment over at
 * once (resuming from its checkpoint, as after an expiry). A holder that is alive, or on another host, is still waited for.
 */
describe('a dead holder\'s lease', () => {
	let world: SyncWorld;
	let store: SyncStore;
	beforeAll(async () => {
		world = await startSyncWorld({ seed: 21, segments: [{ id: 2101, name: 'Named', size: 150 }, { id: 2102, name: 'Due', size: 150 }, { id: 2103, name: 'Alive', size: 50 }] });
		await world.addSegments(2101, 2102, 2103);
		store = SyncStore.connect({ url: world.stack.supabaseUrl, serviceRoleKey: world.stack.serviceRoleKey });
	});
	afterAll(() => world?.stop());

	async function holdAs(segmentId: number, worker: string): Promise<string> {
		const [row] = await store.claim({ worker, segmentIds: [segmentId], trigger: 'cli' });
		expect(row.outcome).toBe('claimed');
		return row.run_id!;
	}

	it('tells a dead local holder from a live one and from another host', () => {
		const dead = deadPid();
		expect(isDeadLocalHolder(`${hostname()}:${dead}:abc123`)).toBe(true);
		expect(isDeadLocalHolder(`${hostname()}:${process.pid}:abc123`)).toBe(false);
		expect(isDeadLocalHolder(`${hostname()}:1:abc123`)).toBe(false); // pid 1 is alive
		expect(isDeadLocalHolder(`another-host:${dead}:abc123`)).toBe(false);
		expect(isDeadLocalHolder(`n8n:42:${dead}`)).toBe(false);
		expect(isDeadLocalHolder(null)).toBe(false);
	});

	it('a named sync takes the segment over at once; the dead run is closed as failed', async () => {
		const deadRun = await holdAs(2101, `${hostname()}:${deadPid()}:dead01`);
		const [result] = await world.engine().syncSegments([2101], { trigger: 'manual', pageSize: 100 });
		expect(result).toMatchObject({ status: 'success', complete: true });
		expect(await world.memberIds(2101)).toEqual(truthMemberIds(world.sim, 2101));
		const [dead] = await world.stack.query<{ status: string; message: string }>('select status, message from sync_segments_logs where run_id = $1', [deadRun]);
		expect(dead.status).toBe('failed');
		expect(dead.message).toMatch(/taken over/);
	});

	it('Sync Due takes a due segment a dead process holds', async () => {
		await holdAs(2102, `${hostname()}:${deadPid()}:dead02`);
		await world.stack.query(`update sync_segments_control set next_execution = now() - interval '1 minute' where segment_id = 2102`);
		await world.stack.query(`update sync_segments_control set next_execution = now() + interval '1 day' where segment_id <> 2102`);
		const results = await world.engine().syncDue({ trigger: 'schedule', pageSize: 100 });
		expect(results).toEqual([expect.objectContaining({ segmentId: 2102, status: 'success' })]);
		expect(await world.memberIds(2102)).toEqual(truthMemberIds(world.sim, 2102));
	});

	it('a live holder is still waited for: the segment is skipped as busy', async () => {
		await holdAs(2103, `${hostname()}:${process.pid}:alive1`);
		const [result] = await world.engine().syncSegments([2103], { trigger: 'manual' });
		expect(result.status).toBe('skipped');
		expect(result.message).toMatch(/is being synced by .*alive1/);
	});
});
