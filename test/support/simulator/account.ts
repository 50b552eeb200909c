import {
	AccountProfile,
	baseAnon,
	baseArchived,
	baseCreateMs,
	baseUpdatedMs,
	buildProfile,
	changedFields,
	divergence,
	generateLead,
	LeadRecord,
	LeadTimes,
	toListForm,
} from './leads';
import { hash32, Random } from './random';

/**
 * The mutable state of one simulated account: which leads exist, which segments they belong to, and the few
 * leads that were changed since generation. Everything else is derived from the seed on demand.
 */

export interface SegmentDefinition {
	id: number;
	name: string;
	/** Members at start (with archived and anonymous ones; see the visible counts in the truth helpers). */
	size: number;
	alias?: string;
	isPublished?: boolean;
	category?: { id: number; title: string } | null;
}

export interface Visibility {
	showArchived?: boolean;
	showAnon?: boolean;
}

/** Either explicit lead ids or "this many, chosen by the seeded mutation stream". */
export type LeadSelection = number | number[];
export type ChangeTarget = number[] | { segmentId: number; count: number };

interface LeadOverride {
	createMs?: number;
	updatedMs?: number;
	archived?: boolean;
	anon?: boolean;
	fields?: LeadRecord;
}

interface SegmentState {
	definition: SegmentDefinition;
	members: MemberSet;
	createMs: number;
	ordered: Map<string, { version: number; ids: Int32Array }>;
	lastUpdate?: { version: number; ms: number | null };
}

/**
 * Segment membership as a bitmap over the account's lead indexes: 200,000 members cost 25 KB instead of the
 * megabytes a Set of ids would take. Speaks ids outside.
 */
class MemberSet {
	private bits: Uint8Array;
	private count = 0;

	constructor(
		private readonly idAt: (index: number) => number,
		private readonly indexOf: (id: number) => number | undefined,
		private readonly upperIndex: () => number,
	) {
		this.bits = new Uint8Array(Math.ceil(upperIndex() / 8) + 1);
	}

	get size(): number {
		return this.count;
	}

	has(id: number): boolean {
		const index = this.indexOf(id);
		return index !== undefined && index >> 3 < this.bits.length && (this.bits[index >> 3] & (1 << (index & 7))) !== 0;
	}

	add(id: number): void {
		const index = this.indexOf(id);
		if (index === undefined || this.has(id)) return;
		if (index >> 3 >= this.bits.length) {
			const grown = new Uint8Array(Math.max(this.bits.length * 2, (index >> 3) + 1));
			grown.set(this.bits);
			this.bits = grown;
		}
		this.bits[index >> 3] |= 1 << (index & 7);
		this.count++;
	}

	delete(id: number): void {
		const index = this.indexOf(id);
		if (index === undefined || !this.has(id)) return;
		this.bits[index >> 3] &= ~(1 << (index & 7));
		this.count--;
	}

	forEach(visit: (id: number) => void): void {
		const upper = Math.min(this.upperIndex(), this.bits.length * 8);
		for (let index = 0; index < upper; index++) {
			if ((this.bits[index >> 3] & (1 << (index & 7))) !== 0) visit(this.idAt(index));
		}
	}
}

const ID_BASE = 10_000;
const ID_STRIDE = 7;

export interface AccountOptions {
	seed: number;
	segments: SegmentDefinition[];
	/** Leads in the account but in no segment at start (default: a tenth of all segment sizes, at least 50). */
	extraLeads?: number;
	archivedShare?: number;
	anonShare?: number;
	divergentShare?: number;
}

export class AccountState {
	readonly profile: AccountProfile;
	/** Bumped by every mutation; caches compare against it. */
	version = 0;
	private nextIndex: number;
	private readonly overrides = new Map<number, LeadOverride>();
	private readonly deleted = new Set<number>();
	private readonly segments = new Map<number, SegmentState>();
	private readonly mutationRandom: Random;
	private changeGeneration = 0;
	private liveIds?: { version: number; ids: Int32Array };

	constructor(options: AccountOptions) {
		this.profile = buildProfile(options);
		const totalSize = options.segments.reduce((sum, segment) => sum + segment.size, 0);
		this.nextIndex = totalSize + (options.extraLeads ?? Math.max(50, Math.ceil(totalSize / 10)));
		this.mutationRandom = new Random(hash32(options.seed, 0xa11ce));
		for (const definition of options.segments) this.addSegment(definition);
	}

	get seed(): number {
		return this.profile.seed;
	}

	idAt(index: number): number {
		return ID_BASE + index * ID_STRIDE + (hash32(this.seed, index, 0x1d) % 5);
	}

	indexOf(id: number): number | undefined {
		if (!Number.isSafeInteger(id) || id < ID_BASE) return undefined;
		const index = Math.floor((id - ID_BASE) / ID_STRIDE);
		return index < this.nextIndex && this.idAt(index) === id ? index : undefined;
	}

	exists(id: number): boolean {
		return this.indexOf(id) !== undefined && !this.deleted.has(id);
	}

	addSegment(definition: SegmentDefinition): void {
		if (this.segments.has(definition.id)) throw new Error(`segment ${definition.id} already exists`);
		const members = new MemberSet(
			(index) => this.idAt(index),
			(id) => this.indexOf(id),
			() => this.nextIndex,
		);
		const size = Math.min(definition.size, this.nextIndex);
		// Partial Fisher-Yates over the account's leads: an exact size, seeded per segment.
		const random = new Random(hash32(this.seed, definition.id, 0x5e9));
		const pool = new Int32Array(this.nextIndex);
		for (let index = 0; index < pool.length; index++) pool[index] = index;
		for (let taken = 0; taken < size; taken++) {
			const other = taken + Math.floor(random.next() * (pool.length - taken));
			const chosen = pool[other];
			pool[other] = pool[taken];
			pool[taken] = chosen;
			const id = this.idAt(chosen);
			if (!this.deleted.has(id)) members.add(id);
		}
		this.segments.set(definition.id, {
			definition,
			members,
			createMs: Date.UTC(2020, 0, 1) + (hash32(this.seed, definition.id, 0xda7e) % (4 * 365 * 86_400)) * 1000,
			ordered: new Map(),
		});
		this.version++;
	}

	hasSegment(segmentId: number): boolean {
		return this.segments.has(segmentId);
	}

	segmentIds(): number[] {
		return [...this.segments.keys()];
	}

	segmentDefinition(segmentId: number): SegmentDefinition | undefined {
		return this.segments.get(segmentId)?.definition;
	}

	segmentCreateMs(segmentId: number): number {
		return this.requireSegment(segmentId).createMs;
	}

	times(id: number): LeadTimes {
		const index = this.indexOf(id);
		if (index === undefined) throw new Error(`lead ${id} does not exist`);
		const override = this.overrides.get(id);
		const createMs = override?.createMs ?? baseCreateMs(this.seed, index);
		return {
			createMs,
			updatedMs: override?.updatedMs ?? baseUpdatedMs(this.seed, index, baseCreateMs(this.seed, index)),
			archived: override?.archived ?? baseArchived(this.profile, index),
			anon: override?.anon ?? baseAnon(this.profile, index),
		};
	}

	private recordWithOverrides(id: number): { record: LeadRecord; overridden: LeadRecord } {
		const record = generateLead(this.profile, id, this.times(id));
		const overridden = this.overrides.get(id)?.fields ?? {};
		Object.assign(record, overridden);
		return { record, overridden };
	}

	/** The lead as GET /leads/{id}?allFields=1 returns it, or undefined when it does not exist (404). */
	detail(id: number): LeadRecord | undefined {
		if (!this.exists(id)) return undefined;
		const { record, overridden } = this.recordWithOverrides(id);
		const diverging = divergence(this.profile, id);
		if (diverging && !(diverging.detailNull in overridden)) record[diverging.detailNull] = null;
		return record;
	}

	/** The lead as segment lists show it (every field; the projection picks from this). */
	listRecord(id: number): LeadRecord | undefined {
		if (!this.exists(id)) return undefined;
		const { record, overridden } = this.recordWithOverrides(id);
		const listed = toListForm(this.profile, record);
		const diverging = divergence(this.profile, id);
		if (diverging && !(diverging.listNull in overridden)) listed[diverging.listNull] = null;
		return listed;
	}

	/** Members in (createDate, id) ascending order, filtered like the segment endpoint filters them. */
	orderedMembers(segmentId: number, visibility: Visibility = {}): Int32Array {
		const segment = this.requireSegment(segmentId);
		const key = `${visibility.showArchived === true}|${visibility.showAnon === true}`;
		const cached = segment.ordered.get(key);
		if (cached && cached.version === this.version) return cached.ids;
		const ids: number[] = [];
		const keys: number[] = [];
		segment.members.forEach((id) => {
			const times = this.times(id);
			if (times.archived && visibility.showArchived !== true) return;
			if (times.anon && visibility.showAnon !== true) return;
			ids.push(id);
			keys.push(times.createMs);
		});
		const order = new Uint32Array(ids.length);
		for (let index = 0; index < order.length; index++) order[index] = index;
		order.sort((left, right) => keys[left] - keys[right] || ids[left] - ids[right]);
		const sorted = new Int32Array(ids.length);
		for (let index = 0; index < order.length; index++) sorted[index] = ids[order[index]];
		segment.ordered.set(key, { version: this.version, ids: sorted });
		return sorted;
	}

	memberCount(segmentId: number): number {
		return this.requireSegment(segmentId).members.size;
	}

	isMember(segmentId: number, id: number): boolean {
		return this.requireSegment(segmentId).members.has(id);
	}

	/** Latest updatedDate among the segment's members (for GET /segments lastLeadUpdate). */
	lastLeadUpdateMs(segmentId: number): number | null {
		const segment = this.requireSegment(segmentId);
		if (segment.lastUpdate && segment.lastUpdate.version === this.version) return segment.lastUpdate.ms;
		let latest: number | null = null;
		segment.members.forEach((id) => {
			const updated = this.times(id).updatedMs;
			if (latest === null || updated > latest) latest = updated;
		});
		segment.lastUpdate = { version: this.version, ms: latest };
		return latest;
	}

	/** Every existing lead of the account, ascending id (GET /leads order). */
	allLeadIds(): Int32Array {
		if (this.liveIds && this.liveIds.version === this.version) return this.liveIds.ids;
		const ids = new Int32Array(this.nextIndex - this.deleted.size);
		let count = 0;
		for (let index = 0; index < this.nextIndex; index++) {
			const id = this.idAt(index);
			if (!this.deleted.has(id)) ids[count++] = id;
		}
		this.liveIds = { version: this.version, ids: ids.subarray(0, count) };
		return this.liveIds.ids;
	}

	// ---- mutations: each applies at once and returns the ids it affected ----

	/** Leads join a segment: existing visible leads of the account not yet in it, or brand-new leads. */
	join(segmentId: number, selection: LeadSelection, options: { newLeads?: boolean } = {}): number[] {
		const segment = this.requireSegment(segmentId);
		const joined: number[] = [];
		if (Array.isArray(selection)) {
			for (const id of selection) {
				if (!this.exists(id)) throw new Error(`lead ${id} does not exist; use join(segmentId, count, { newLeads: true })`);
				if (!segment.members.has(id)) {
					segment.members.add(id);
					joined.push(id);
				}
			}
		} else {
			let attempts = options.newLeads ? 0 : selection * 50;
			while (joined.length < selection && attempts-- > 0) {
				const id = this.idAt(Math.floor(this.mutationRandom.next() * this.nextIndex));
				const times = this.exists(id) ? this.times(id) : undefined;
				if (!times || times.archived || times.anon || segment.members.has(id)) continue;
				segment.members.add(id);
				joined.push(id);
			}
			while (joined.length < selection) {
				const id = this.createLead();
				segment.members.add(id);
				joined.push(id);
			}
		}
		this.version++;
		return joined;
	}

	/** Leads leave a segment but stay in the account (their detail still answers). */
	leave(segmentId: number, selection: LeadSelection): number[] {
		const segment = this.requireSegment(segmentId);
		const ids = Array.isArray(selection) ? selection.filter((id) => segment.members.has(id)) : this.pickVisibleMembers(segmentId, selection);
		for (const id of ids) segment.members.delete(id);
		this.version++;
		return ids;
	}

	/**
	 * Leads change: updatedDate moves forward (never backwards, at least one second) and some fields change,
	 * either the given ones or a seeded choice (points, stage, a custom field, sometimes lastActive).
	 */
	change(target: ChangeTarget, fields?: LeadRecord): number[] {
		const ids = Array.isArray(target) ? target : this.pickVisibleMembers(target.segmentId, target.count);
		for (const id of ids) {
			if (!this.exists(id)) throw new Error(`lead ${id} does not exist`);
			const override = this.overrides.get(id) ?? {};
			const changes: LeadRecord = { ...(fields ?? changedFields(this.profile, id, ++this.changeGeneration)) };
			const previousUpdated = this.times(id).updatedMs;
			let updatedMs = Math.max(Date.now(), previousUpdated + 1000);
			if (typeof changes.updatedDate === 'string' && !Number.isNaN(Date.parse(changes.updatedDate))) updatedMs = Date.parse(changes.updatedDate);
			delete changes.updatedDate;
			if (typeof changes.createDate === 'string' && !Number.isNaN(Date.parse(changes.createDate))) override.createMs = Date.parse(changes.createDate);
			delete changes.createDate;
			if ('archived' in changes) override.archived = changes.archived === true;
			override.fields = { ...override.fields, ...changes };
			override.updatedMs = updatedMs;
			this.overrides.set(id, override);
		}
		this.version++;
		return [...ids];
	}

	/** Leads are deleted: detail answers 404 and they vanish from every segment and from GET /leads. */
	remove(target: ChangeTarget): number[] {
		const ids = Array.isArray(target) ? target.filter((id) => this.exists(id)) : this.pickVisibleMembers(target.segmentId, target.count);
		for (const id of ids) {
			this.deleted.add(id);
			this.overrides.delete(id);
			for (const segment of this.segments.values()) segment.members.delete(id);
		}
		this.version++;
		return ids;
	}

	private createLead(): number {
		const index = this.nextIndex++;
		const id = this.idAt(index);
		const now = Date.now();
		this.overrides.set(id, { createMs: now, updatedMs: now, archived: false, anon: false });
		return id;
	}

	private pickVisibleMembers(segmentId: number, count: number): number[] {
		const ordered = this.orderedMembers(segmentId);
		const positions = new Set<number>();
		const wanted = Math.min(count, ordered.length);
		while (positions.size < wanted) positions.add(Math.floor(this.mutationRandom.next() * ordered.length));
		return [...positions].map((position) => ordered[position]);
	}

	private requireSegment(segmentId: number): SegmentState {
		const segment = this.segments.get(segmentId);
		if (!segment) throw new Error(`segment ${segmentId} does not exist`);
		return segment;
	}
}
