/**
 * Enrichment "auto": whether an account's segment list pages carry full lead records. A list is
 * asked with `allFields=1` and a projection naming every field a detail record has (custom fields
 * learned from stored raw records); a few leads are compared with their detail records. When every
 * sampled list record equals what a detail call would store, the account's segments are synced from
 * list pages alone and each run re-verifies one lead; otherwise runs make detail calls as in
 * "changed". What was learned is kept per account, with its date, in sync_list_capabilities.
 */
import type { BudgetAccount } from '../sprinthub/budgetStore';
import type { ListCapabilityRecord, ListCapabilityRow, SyncStore } from '../store';
import type { DatabaseCalls } from './databaseCalls';
import { mergeLeadRecords } from './mergeLead';
import type { ListRecordsOutcome } from './ports';
import { LIST_PROJECTION, MARKER_PROJECTION } from './projections';

type Lead = Record<string, unknown> & { id: number };

/** Leads compared with their detail records when an account is checked. */
export const LIST_CHECK_SAMPLE = 5;
/** An account whose lists fell short is checked again after this long (servers change). */
export const LIST_RECHECK_AFTER_MS = 7 * 86_400_000;
const ASKED_WITH = 'allFields+projection';
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type ListCapabilityStore = Pick<SyncStore, 'listCapability' | 'recordListCapability' | 'knownLeadFields'>;

/** Fields of the detail record the list left out, and fields where storing the list alone would differ. */
export function compareListWithDetail(list: Lead, detail: Lead): { missing: string[]; differing: string[] } {
	const merged = mergeLeadRecords(list, detail);
	const missing = Object.keys(detail).filter((key) => !(key in list));
	const differing = Object.keys(merged).filter((key) => key in list && JSON.stringify(merged[key]) !== JSON.stringify(list[key]));
	if ('ownerName' in merged && !('ownerName' in list) && !missing.includes('ownerName')) differing.push('ownerName');
	return { missing, differing };
}

export function projectionOf(fields: Iterable<string>): string {
	const names = new Set(['id', 'updatedDate']);
	for (const field of fields) if (FIELD_NAME.test(field)) names.add(field);
	return `{total,leads{${[...names].join(',')}}}`;
}

const LIST_FIELDS = /leads\{([^}]*)\}/.exec(LIST_PROJECTION)![1].split(',');

export class ListRecordsPlan {
	state: 'checking' | 'list' | 'detail';
	/** Fields a list record must carry to be stored as complete. */
	private fields: string[];
	private askFields: string[];
	private row: ListCapabilityRow | null;
	private checkedThisRun = false;
	private verifiedThisRun: boolean | null = null;
	incompleteListRecords = 0;

	private constructor(
		private readonly deps: { account: BudgetAccount | null; store: ListCapabilityStore; db: DatabaseCalls; record: boolean },
		row: ListCapabilityRow | null,
		knownFields: string[],
		now: number,
	) {
		this.row = row;
		this.fields = row?.list_complete ? row.fields : [];
		this.askFields = [...new Set([...LIST_FIELDS, ...knownFields, ...(row?.fields ?? [])])].filter((field) => FIELD_NAME.test(field));
		if (!deps.account) this.state = 'detail';
		else if (!row) this.state = 'checking';
		else if (row.list_complete) this.state = 'list';
		else if (now - Date.parse(row.checked_at) > LIST_RECHECK_AFTER_MS) this.state = 'checking';
		// Lists that only left fields out, when those fields are now known and can be named: ask again.
		else if (row.differing_fields.length === 0 && row.missing_fields.some((field) => this.askFields.includes(field) && !row.fields_asked.includes(field))) this.state = 'checking';
		else this.state = 'detail';
	}

	/** `record` false (a dry run): nothing learned is stored. */
	static async load(deps: { account: BudgetAccount | null; store: ListCapabilityStore; db: DatabaseCalls; record: boolean }): Promise<ListRecordsPlan> {
		if (!deps.account) return new ListRecordsPlan(deps, null, [], Date.now());
		const account = deps.account;
		const row = await deps.db.run(() => deps.store.listCapability(account.key));
		const known = row?.list_complete ? [] : await deps.db.run(() => deps.store.knownLeadFields());
		return new ListRecordsPlan(deps, row, known, Date.now());
	}

	/** What the next list page asks for. */
	pageQuery(): { query: string; allFields?: boolean } {
		if (this.state === 'list') return { query: projectionOf(this.fields), allFields: true };
		if (this.state === 'checking') return { query: projectionOf(this.askFields), allFields: true };
		return { query: MARKER_PROJECTION };
	}

	/** The list record carries every field a detail record has: it may be stored as complete. */
	carriesEveryField(lead: Lead): boolean {
		return this.fields.every((field) => field in lead);
	}

	get needsVerification(): boolean {
		return this.state === 'list' && this.verifiedThisRun === null;
	}

	/** The account's check from sampled pairs; moves the run to list or detail mode. */
	async decide(samples: Array<{ list: Lead; detail: Lead }>): Promise<void> {
		if (samples.length === 0) return;
		const missing = new Set<string>();
		const differing = new Set<string>();
		const fields = new Set<string>();
		for (const { list, detail } of samples) {
			const found = compareListWithDetail(list, detail);
			found.missing.forEach((field) => missing.add(field));
			found.differing.forEach((field) => differing.add(field));
			Object.keys(detail).forEach((field) => fields.add(field));
		}
		const listComplete = missing.size === 0 && differing.size === 0;
		this.checkedThisRun = true;
		await this.remember({
			listComplete,
			askedWith: ASKED_WITH,
			fields: [...fields].sort(),
			fieldsAsked: this.askFields,
			missingFields: [...missing].sort(),
			differingFields: [...differing].sort(),
			sampleSize: samples.length,
		});
		this.fields = listComplete ? [...fields] : [];
		this.state = listComplete ? 'list' : 'detail';
		// The sample just compared is this run's verification.
		if (listComplete) this.verifiedThisRun = true;
	}

	/** One lead of this run against its detail record; a disagreement sends the account back to detail calls. */
	async verify(list: Lead, detail: Lead): Promise<boolean> {
		const found = compareListWithDetail(list, detail);
		const agrees = found.missing.length === 0 && found.differing.length === 0;
		this.verifiedThisRun = agrees;
		const row = this.row!;
		await this.remember({
			listComplete: agrees,
			askedWith: row.asked_with,
			fields: agrees ? row.fields : [...new Set([...row.fields, ...Object.keys(detail)])].sort(),
			fieldsAsked: row.fields_asked,
			missingFields: found.missing.sort(),
			differingFields: found.differing.sort(),
			sampleSize: agrees ? row.sample_size : 1,
			verified: true,
			note: agrees ? null : `Lead ${detail.id} differed from its detail record when re-verified.`,
		});
		if (!agrees) {
			this.state = 'detail';
			this.fields = [];
		}
		return agrees;
	}

	outcome(): ListRecordsOutcome {
		const row = this.row;
		return {
			usedThisRun: this.state,
			listComplete: row ? row.list_complete : null,
			askedWith: row?.asked_with ?? null,
			checkedAt: row ? new Date(row.checked_at).toISOString() : null,
			checkedThisRun: this.checkedThisRun,
			verifiedThisRun: this.verifiedThisRun,
			fields: row?.fields.length ?? 0,
			missingFields: row?.missing_fields ?? [],
			differingFields: row?.differing_fields ?? [],
			sampleSize: row?.sample_size ?? 0,
			incompleteListRecords: this.incompleteListRecords,
		};
	}

	private async remember(learned: ListCapabilityRecord): Promise<void> {
		const now = new Date().toISOString();
		const { account, store, db, record } = this.deps;
		const asRow = (): ListCapabilityRow => ({
			account_key: account!.key,
			base_url: account!.baseUrl,
			instance: account!.instance,
			list_complete: learned.listComplete,
			asked_with: learned.askedWith,
			fields: learned.fields,
			fields_asked: learned.fieldsAsked,
			missing_fields: learned.missingFields,
			differing_fields: learned.differingFields,
			sample_size: learned.sampleSize,
			checked_at: learned.verified && this.row?.list_complete === learned.listComplete ? this.row.checked_at : now,
			verified_at: learned.verified ? now : (this.row?.verified_at ?? null),
			note: learned.note ?? null,
		});
		this.row = record && account ? await db.run(() => store.recordListCapability(account, learned)) : asRow();
	}
}
