/**
 * A run's right to write: the lease taken by the claim, renewed by a heartbeat. The run stops when
 * the caller cancels or when this worker loses its lease (another worker took the segment over).
 */
import { setMaxListeners } from 'node:events';
import { cancelledError, SyncError } from '../errors';
import { StoreError, type SyncStore } from '../store';

export class RunLease {
	/** Fires on cancel or lease loss; every SprintHub call and database retry of the run listens. */
	readonly signal: AbortSignal;
	private readonly controller = new AbortController();
	private readonly heartbeat?: ReturnType<typeof setInterval>;
	private readonly callerSignal?: AbortSignal;
	private readonly onCallerAbort = () => this.controller.abort();
	private lostWith: SyncError | null = null;

	/**
	 * `runId` null (a dry run) holds no lease: only the caller's signal stops it. A heartbeat that
	 * fails for another reason (the database's bad minute) goes to `onHeartbeatError`; the next beat
	 * tries again, and the lease (300 s by default) outlasts the database patience.
	 */
	constructor(
		store: Pick<SyncStore, 'heartbeat'>,
		runId: string | null,
		callerSignal: AbortSignal | undefined,
		heartbeatMs = 20_000,
		onHeartbeatError: (error: unknown) => void = () => undefined,
	) {
		this.signal = this.controller.signal;
		// Every detail call in flight listens on this signal (budget wait + request): not a leak.
		setMaxListeners(0, this.signal);
		this.callerSignal = callerSignal;
		callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
		if (callerSignal?.aborted) this.controller.abort();
		if (runId !== null) {
			this.heartbeat = setInterval(() => {
				store.heartbeat(runId).catch((error: unknown) => {
					if (error instanceof StoreError && error.kind === 'lease_lost') {
						this.lostWith = new SyncError({ errorClass: 'system', code: 'lease_lost', message: error.message, hint: 'Another worker took the segment over; this run stopped without writing more.' });
						this.controller.abort();
					} else onHeartbeatError(error);
				});
			}, heartbeatMs);
			this.heartbeat.unref?.();
		}
	}

	/** The error of a lost lease, or null while the lease holds. */
	get lost(): SyncError | null {
		return this.lostWith;
	}

	throwIfStopped(): void {
		if (this.lostWith) throw this.lostWith;
		if (this.signal.aborted) throw cancelledError('The sync');
	}

	/** Stops the heartbeat (the finish call releases the lease in the database). */
	release(): void {
		clearInterval(this.heartbeat);
		this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
	}
}
