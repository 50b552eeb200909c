/**
 * What must hold after the soak's quiet round, each as a named result with what was seen. Read
 * straight from the database (as the superuser) and from the simulator's truth and call log.
 */
import { isDeepStrictEqual } from 'node:util';
import { budgetWindows } from '../support/budgetWindows';
import type { RequestLogEntry } from '../support/simulator';
import { truthMemberIds, type SyncWorld } from '../support/world';
import type { Deletion } from './ideal';

export interface InvariantResult {
	name: string;
	ok: boolean;
	detail: string;
}

const sample = (items: unknown[]): string => (items.length ? `${items.length}: ${JSON.stringify(items.slice(0, 5))}` : 'none');

export async function membersEqualTruth(world: SyncWorld, segmentIds: number[]): Promise<InvariantResult> {
	const wrong: Array<{ segmentId: number; missing: number[]; extra: number[] }> = [];
	let members = 0;
	for (const segmentId of segmentIds) {
		const truth = truthMemberIds(world.sim, segmentId);
		const stored = await world.memberIds(segmentId);
		members += truth.length;
		const storedSet = new Set(stored);
		const truthSet = new Set(truth);
		const missing = truth.filter((id) => !storedSet.has(id));
		const extra = stored.filter((id) => !truthSet.has(id));
		if (missing.length || extra.length) wrong.push({ segmentId, missing: missing.slice(0, 10), extra: extra.slice(0, 10) });
	}
	return { name: 'members equal the simulator, per segment', ok: wrong.length === 0, detail: wrong.length ? `wrong: ${JSON.stringify(wrong)}` : `${segmentIds.length} segments, ${members} members` };
}

/** The detail record is the base; a field it leaves empty may hold the list's value (the merge rule). */
export async function recordsEqualTruth(world: SyncWorld, segmentIds: number[]): Promise<InvariantResult> {
	const ids = [...new Set(segmentIds.flatMap((segmentId) => world.sim.truth.segmentMemberIds(segmentId)))];
	const rows = await world.stack.query<{ id: string; raw: Record<string, unknown>; change_marker: string | null; enriched_at: Date | null; deleted_at: Date | null }>(
		'select id, raw, change_marker, enriched_at, deleted_at from leads where id = any($1::bigint[])',
		[ids],
	);
	const byId = new Map(rows.map((row) => [Number(row.id), row]));
	const wrong: unknown[] = [];
	for (const id of ids) {
		const row = byId.get(id);
		const truth = world.sim.truth.lead(id);
		if (!row || !truth) {
			wrong.push({ id, problem: row ? 'deleted in SprintHub' : 'no row' });
			continue;
		}
		const fields = Object.entries(truth).filter(([key, value]) => value !== null && value !== '' && !isDeepStrictEqual(row.raw[key], value));
		if (fields.length) wrong.push({ id, fields: fields.map(([key]) => key).slice(0, 5) });
		else if (row.change_marker !== truth.updatedDate) wrong.push({ id, marker: row.change_marker, truth: truth.updatedDate });
		else if (!row.enriched_at) wrong.push({ id, problem: 'never enriched' });
		else if (row.deleted_at) wrong.push({ id, problem: 'marked deleted' });
	}
	return { name: "every member's lead row equals SprintHub's record (raw, change marker, enriched, live)", ok: wrong.length === 0, detail: wrong.length ? `wrong ${sample(wrong)}` : `${ids.length} leads` };
}

const TYPED = [
	'firstname', 'lastname', 'fullname', 'email', 'phone', 'mobile', 'whatsapp', 'address', 'city', 'state', 'country', 'zipcode', 'timezone', 'company',
	'stage', 'preferred_locale', 'photo_url', 'points', 'owner_id', 'owner_name', 'archived', 'created_by', 'created_by_name', 'created_by_type',
	'updated_by', 'updated_by_name', 'create_date', 'updated_date', 'last_active', 'cast_problems',
];

export async function typedColumnsAreCasts(world: SyncWorld): Promise<InvariantResult> {
	const differs = TYPED.map((column) => `l.${column} is distinct from c.${column}`).join(' or ');
	const rows = await world.stack.query<{ id: string }>(`select l.id from leads l cross join lateral sync_internal.cast_lead(l.raw) c where ${differs} order by l.id limit 20`);
	const [{ n }] = await world.stack.query<{ n: number }>('select count(*)::int as n from leads');
	return { name: 'typed columns equal the casts of raw (every lead row)', ok: rows.length === 0, detail: rows.length ? `differ: ${rows.map((row) => row.id).join(', ')}` : `${n} rows` };
}

/**
 * A lead deleted while the database held it as a member must end marked deleted: the run that saw
 * it leave checks each leaver with a detail call. (A lead that had already left every segment
 * before it was deleted is not looked at again, by design.)
 */
export async function deletedLeadsMarked(world: SyncWorld, deletions: Deletion[]): Promise<InvariantResult> {
	const ids = deletions.map((deletion) => deletion.leadId);
	const memberships = await world.stack.query<{ lead_id: string; joined_at: Date; left_at: Date | null }>(
		'select lead_id, joined_at, left_at from sync_segment_leads where lead_id = any($1::bigint[])',
		[ids],
	);
	const leads = await world.stack.query<{ id: string; deleted_at: Date | null }>('select id, deleted_at from leads where id = any($1::bigint[])', [ids]);
	const deletedAt = new Map(leads.map((row) => [Number(row.id), row.deleted_at]));
	const expected = deletions.filter(({ leadId, at }) =>
		memberships.some((row) => Number(row.lead_id) === leadId && row.joined_at < at && (row.left_at === null || row.left_at >= at)),
	);
	const unmarked = expected.filter(({ leadId }) => !deletedAt.get(leadId)).map(({ leadId, at }) => ({ leadId, deletedAt: at.toISOString() }));
	return {
		name: 'leads deleted in SprintHub while members are marked deleted',
		ok: unmarked.length === 0,
		detail: `${deletions.length} deleted, ${expected.length} were members in the database; unmarked ${sample(unmarked)}`,
	};
}

export async function noDuplicateRows(world: SyncWorld): Promise<InvariantResult> {
	const [row] = await world.stack.query<{ memberships: number; pairs: number; leads: number; ids: number }>(
		`select (select count(*)::int from sync_segment_leads) as memberships,
			(select count(*)::int from (select distinct segment_id, lead_id from sync_segment_leads) d) as pairs,
			(select count(*)::int from leads) as leads, (select count(distinct id)::int from leads) as ids`,
	);
	const ok = row.memberships === row.pairs && row.leads === row.ids;
	return { name: 'no duplicate membership or lead rows', ok, detail: `${row.memberships} membership rows for ${row.pairs} pairs, ${row.leads} lead rows for ${row.ids} ids` };
}

export async function runsFinishedLeasesFree(world: SyncWorld): Promise<InvariantResult[]> {
	const running = await world.stack.query<{ run_id: string; segment_id: string }>("select run_id, segment_id from sync_segments_logs where status = 'running'");
	const leases = await world.stack.query<{ segment_id: string; lease_owner: string }>('select segment_id, lease_owner from sync_segments_control where lease_owner is not null');
	const quarantine = await world.stack.query<{ segment_id: string; lead_id: string }>(
		"select segment_id, lead_id from sync_quarantine where resolved_at is null and coalesce(btrim(error), '') = ''",
	);
	const [{ open }] = await world.stack.query<{ open: number }>('select count(*)::int as open from sync_quarantine where resolved_at is null');
	return [
		{ name: 'every run finished (none left running)', ok: running.length === 0, detail: `running ${sample(running)}` },
		{ name: 'no lease held', ok: leases.length === 0, detail: `held ${sample(leases)}` },
		{ name: 'no open quarantine without a reason', ok: quarantine.length === 0, detail: `${open} open; without a reason ${sample(quarantine)}` },
	];
}

export interface BudgetFigures {
	ratePerSecond: number;
	capacity: number;
	/** For each window: most calls in it, and the bound calls ≤ capacity + rate × (T + 1 s). */
	windows: Array<{ seconds: number; maxCalls: number; bound: number }>;
	maxPerMinute: number;
}

export function budgetFigures(requests: readonly RequestLogEntry[], ratePerMinute: number): BudgetFigures {
	const times = requests.map((entry) => entry.startedAt).sort((a, b) => a - b);
	const maxIn = (windowMs: number): number => {
		let most = 0;
		for (let last = 0, first = 0; last < times.length; last++) {
			while (times[last] - times[first] >= windowMs) first++;
			most = Math.max(most, last - first + 1);
		}
		return most;
	};
	const ratePerSecond = ratePerMinute / 60;
	// The README's promise for the account's token bucket: a quarter second of calls (at least 2).
	const capacity = Math.max(2, ratePerSecond / 4);
	const windows = [1, 5, 20, 60].map((seconds) => ({ seconds, maxCalls: maxIn(seconds * 1000), bound: Math.floor(capacity + ratePerSecond * (seconds + 1)) }));
	return { ratePerSecond, capacity, windows, maxPerMinute: maxIn(60_000) };
}

/**
 * Every window between two calls of the log, as the queue-mode e2e checks it (test/support/budgetWindows.ts):
 * capacity + rate × (span + 2 s): the README's 1 s for unused tokens plus 1 s for the way from the
 * database's grant to the simulator's log on 2 busy cores.
 */
export function budgetKept(requests: readonly RequestLogEntry[], perMinute: number, capacity: number): InvariantResult {
	const { worst } = budgetWindows(requests, { perMinute, capacity, slackMs: 2000 });
	return {
		name: 'the account budget was never exceeded (simulator call log, every call counted)',
		ok: worst.calls <= worst.allowed,
		detail: `worst window: ${worst.calls} calls in ${(worst.spanMs / 1000).toFixed(1)} s, the budget allows ${worst.allowed.toFixed(1)} (capacity ${capacity} + rate over the span + 2 s)`,
	};
}
