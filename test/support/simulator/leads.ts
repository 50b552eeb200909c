import { hash32, Random, unit } from './random';

/**
 * What a simulated SprintHub account's lead records look like. A record is a pure function of (seed, id) plus
 * the two timestamps the account state hands in, so 200,000 leads cost nothing until they are asked for.
 */

export type LeadRecord = Record<string, unknown>;

export interface AccountUser {
	id: number;
	name: string;
}

export type CustomFieldKind =
	| 'date'
	| 'datetime'
	| 'cpf'
	| 'enum'
	| 'money'
	| 'int'
	| 'text'
	| 'bool'
	| 'list'
	| 'object'
	| 'phone';

export interface CustomFieldDefinition {
	alias: string;
	kind: CustomFieldKind;
	options?: readonly string[];
}

export interface AccountProfile {
	seed: number;
	users: AccountUser[];
	customFields: CustomFieldDefinition[];
	archivedShare: number;
	anonShare: number;
	/** Share of leads whose detail and list records disagree on which fields are null. */
	divergentShare: number;
}

/** Generated history spans these dates, so the data never depends on the wall clock. */
export const HISTORY_START_MS = Date.UTC(2019, 0, 1);
export const HISTORY_END_MS = Date.UTC(2025, 5, 1);
const HISTORY_SPAN_MS = HISTORY_END_MS - HISTORY_START_MS;

const FIRST_NAMES = ['Ana', 'Bruno', 'Carla', 'Diego', 'Eduarda', 'Felipe', 'Gabriela', 'Henrique', 'Isabela', 'João', 'Karina', 'Lucas', 'Mariana', 'Nicolas', 'Otávio', 'Paula', 'Rafael', 'Sofia', 'Thiago', 'Vitória'];
const LAST_NAMES = ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Araújo', 'Melo'];
const CITIES: ReadonlyArray<readonly [string, string]> = [
	['São Paulo', 'SP'], ['Rio de Janeiro', 'RJ'], ['Belo Horizonte', 'MG'], ['Curitiba', 'PR'], ['Porto Alegre', 'RS'],
	['Salvador', 'BA'], ['Recife', 'PE'], ['Fortaleza', 'CE'], ['Campinas', 'SP'], ['Juiz de Fora', 'MG'],
];
const DOMAINS = ['gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br', 'empresa.com.br', 'uol.com.br'];
const STAGES = ['lead', 'mql', 'sql', 'oportunidade', 'cliente', 'perdido'];
const COMPANIES = ['Farmácia Central', 'Oficial Med', 'Loja Bom Preço', 'Clínica Vida', 'Tech Sul Ltda', 'Mercado Aurora'];
const UTM_SOURCES = ['google', 'facebook', 'instagram', 'rdstation', 'email', 'whatsapp'];

const CUSTOM_FIELD_CATALOGUE: readonly CustomFieldDefinition[] = [
	{ alias: 'data_de_nascimento', kind: 'date' },
	{ alias: 'cpf', kind: 'cpf' },
	{ alias: 'tipo_de_compra', kind: 'enum', options: ['varejo', 'atacado', 'assinatura', 'recompra'] },
	{ alias: 'capital_de_investimento', kind: 'money' },
	{ alias: 'pedidos_shopify', kind: 'int' },
	{ alias: 'categoria', kind: 'enum', options: ['A', 'B', 'C', 'VIP'] },
	{ alias: 'classificacao_google', kind: 'enum', options: ['quente', 'morno', 'frio'] },
	{ alias: 'bairro', kind: 'text' },
	{ alias: 'complemento', kind: 'text' },
	{ alias: 'numero_entrega', kind: 'int' },
	{ alias: 'rua_entrega', kind: 'text' },
	{ alias: 'origem_do_lead', kind: 'enum', options: ['site', 'indicação', 'evento', 'anúncio', 'loja física'] },
	{ alias: 'interesses', kind: 'list' },
	{ alias: 'aceita_lgpd', kind: 'bool' },
	{ alias: 'valor_ultima_compra', kind: 'money' },
	{ alias: 'data_ultima_compra', kind: 'datetime' },
	{ alias: 'score_rfm', kind: 'int' },
	{ alias: 'observacoes', kind: 'text' },
	{ alias: 'endereco_de_entrega', kind: 'object' },
	{ alias: 'sexo', kind: 'enum', options: ['M', 'F', 'Outro'] },
	{ alias: 'produto_de_interesse', kind: 'enum', options: ['vitamina d', 'ômega 3', 'colágeno', 'whey'] },
	{ alias: 'whatsapp_secundario', kind: 'phone' },
	{ alias: 'quantidade_de_pedidos', kind: 'int' },
	{ alias: 'ticket_medio', kind: 'money' },
	{ alias: 'ultima_interacao', kind: 'datetime' },
	{ alias: 'cliente_recorrente', kind: 'bool' },
	{ alias: 'data_primeira_compra', kind: 'date' },
	{ alias: 'canal_preferido', kind: 'enum', options: ['whatsapp', 'email', 'telefone'] },
];

/** Fields the detail and the list records may disagree on (never id, dates or archived). */
export const DIVERGENT_FIELDS = ['city', 'phone', 'company', 'photoUrl', 'zipcode', 'stage'];

export interface ProfileOptions {
	seed: number;
	archivedShare?: number;
	anonShare?: number;
	divergentShare?: number;
}

export function buildProfile(options: ProfileOptions): AccountProfile {
	const { seed } = options;
	const random = new Random(hash32(seed, 0x5e7));
	const users: AccountUser[] = [];
	const userCount = random.int(4, 8);
	for (let index = 0; index < userCount; index++) {
		users.push({ id: 1 + index * random.int(1, 3) + index, name: `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}` });
	}
	// An account uses a seed-dependent subset of the catalogue (14 to 21 fields) plus two fields only it has.
	const shuffled = [...CUSTOM_FIELD_CATALOGUE];
	for (let index = shuffled.length - 1; index > 0; index--) {
		const other = random.int(0, index);
		[shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
	}
	const customFields = shuffled.slice(0, random.int(14, 21));
	customFields.push({ alias: `campo_personalizado_${hash32(seed, 1) % 1000}`, kind: 'text' });
	customFields.push({ alias: `codigo_erp_${hash32(seed, 2) % 1000}`, kind: 'int' });
	return {
		seed,
		users,
		customFields,
		archivedShare: options.archivedShare ?? 0.02,
		anonShare: options.anonShare ?? 0.03,
		divergentShare: options.divergentShare ?? 0.05,
	};
}

/** createDate of the lead at universe index k. Blocks of 8 are often bulk imports sharing one instant (ties). */
export function baseCreateMs(seed: number, index: number): number {
	if (unit(seed, index >>> 3, 77) < 0.35) return HISTORY_START_MS + Math.floor(unit(seed, index >>> 3, 78) * HISTORY_SPAN_MS);
	return HISTORY_START_MS + Math.floor(unit(seed, index, 1) * HISTORY_SPAN_MS);
}

export function baseUpdatedMs(seed: number, index: number, createMs: number): number {
	if (unit(seed, index, 2) < 0.3) return createMs;
	return createMs + Math.floor(unit(seed, index, 3) * (HISTORY_END_MS - createMs));
}

export function baseArchived(profile: AccountProfile, index: number): boolean {
	return unit(profile.seed, index, 4) < profile.archivedShare;
}

export function baseAnon(profile: AccountProfile, index: number): boolean {
	return unit(profile.seed, index, 5) < profile.anonShare;
}

/** Which field the detail nulls and which the list nulls, for the few leads where they disagree. */
export function divergence(profile: AccountProfile, id: number): { detailNull: string; listNull: string } | undefined {
	if (unit(profile.seed, id, 9) >= profile.divergentShare) return undefined;
	const first = hash32(profile.seed, id, 10) % DIVERGENT_FIELDS.length;
	const second = (first + 1 + (hash32(profile.seed, id, 11) % (DIVERGENT_FIELDS.length - 1))) % DIVERGENT_FIELDS.length;
	return { detailNull: DIVERGENT_FIELDS[first], listNull: DIVERGENT_FIELDS[second] };
}

function iso(ms: number): string {
	return new Date(ms).toISOString();
}

function slug(text: string): string {
	return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

function digits(random: Random, count: number): string {
	let text = String(random.int(1, 9));
	while (text.length < count) text += String(random.int(0, 9));
	return text;
}

function loosePhone(random: Random): unknown {
	const roll = random.next();
	const number = `119${digits(random, 8)}`;
	if (roll < 0.5) return `55${number}`;
	if (roll < 0.65) return `(${number.slice(0, 2)}) ${number.slice(2, 7)}-${number.slice(7)}`;
	if (roll < 0.75) return Number(`55${number}`);
	if (roll < 0.9) return '';
	return null;
}

/** A date that is ISO, empty, null or junk, the way custom date fields arrive. */
function looseDate(random: Random, withTime: boolean): unknown {
	const roll = random.next();
	const ms = HISTORY_START_MS - 40 * 365 * 86_400_000 + Math.floor(random.next() * 45 * 365 * 86_400_000);
	if (roll < 0.55) return withTime ? iso(ms) : iso(ms).slice(0, 10);
	if (roll < 0.65) {
		const date = new Date(ms);
		return `${String(date.getUTCDate()).padStart(2, '0')}/${String(date.getUTCMonth() + 1).padStart(2, '0')}/${date.getUTCFullYear()}`;
	}
	if (roll < 0.78) return '';
	if (roll < 0.9) return null;
	return random.pick(['Invalid date', '0000-00-00 00:00:00', '31/02/2020', 'ontem']);
}

function customValue(random: Random, field: CustomFieldDefinition): unknown {
	if (random.chance(0.12)) return random.chance(0.5) ? '' : null;
	switch (field.kind) {
		case 'date':
			return looseDate(random, false);
		case 'datetime':
			return looseDate(random, true);
		case 'cpf': {
			const cpf = digits(random, 11);
			const roll = random.next();
			if (roll < 0.6) return cpf;
			if (roll < 0.8) return `${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9)}`;
			return Number(cpf);
		}
		case 'enum':
			return random.pick(field.options ?? ['a', 'b']);
		case 'money': {
			const cents = random.int(0, 5_000_000);
			const roll = random.next();
			if (roll < 0.4) return cents / 100;
			if (roll < 0.7) return (cents / 100).toFixed(2);
			return `${Math.floor(cents / 100).toLocaleString('pt-BR')},${String(cents % 100).padStart(2, '0')}`;
		}
		case 'int': {
			const value = random.int(0, 500);
			return random.chance(0.5) ? value : String(value);
		}
		case 'text':
			return random.chance(0.2) ? `${random.pick(LAST_NAMES)} ${random.pick(['norte', 'sul', 'centro', 'apto 12', 'fundos'])}` : random.pick(['Centro', 'Jardins', 'Moema', 'Savassi', 'Boa Viagem', 'Batel']);
		case 'bool':
			return random.pick([true, false, 'sim', 'não', 1, 0, '1']);
		case 'list': {
			const items: string[] = [];
			const count = random.int(0, 3);
			for (let index = 0; index < count; index++) items.push(random.pick(['saúde', 'beleza', 'esporte', 'nutrição', 'pets']));
			return items;
		}
		case 'object':
			return {
				rua: `Rua ${random.pick(LAST_NAMES)}`,
				numero: random.chance(0.5) ? random.int(1, 3000) : String(random.int(1, 3000)),
				cep: digits(random, 8),
				geo: random.chance(0.5) ? { lat: -23.5 + random.next(), lng: -46.6 + random.next() } : null,
			};
		case 'phone':
			return loosePhone(random);
	}
}

export interface LeadTimes {
	createMs: number;
	updatedMs: number;
	archived: boolean;
	anon: boolean;
}

/** The lead as the detail endpoint returns it before overrides: every field, owner as a user id. */
export function generateLead(profile: AccountProfile, id: number, times: LeadTimes): LeadRecord {
	const random = new Random(hash32(profile.seed, id, 0x1ead));
	const anon = times.anon;
	const firstname = anon ? '' : random.chance(0.03) ? '' : random.pick(FIRST_NAMES);
	const lastname = anon ? '' : random.chance(0.06) ? '' : random.pick(LAST_NAMES);
	const [city, state] = random.pick(CITIES);
	const owner = random.chance(0.85) ? random.pick(profile.users) : undefined;
	const creator = random.pick(profile.users);
	const createdByRoll = random.next();
	const utm = { utm_source: random.pick(UTM_SOURCES), utm_medium: random.pick(['cpc', 'organic', 'social']), utm_campaign: `camp_${random.int(1, 40)}` };
	const lastActiveRoll = random.next();
	const record: LeadRecord = {
		id,
		firstname,
		lastname,
		email: anon ? null : random.chance(0.06) ? '' : `${slug(firstname || 'contato')}.${slug(lastname || 'lead')}${id}@${random.pick(DOMAINS)}`,
		phone: anon ? '' : loosePhone(random),
		mobile: anon ? '' : loosePhone(random),
		whatsapp: anon ? '' : loosePhone(random),
		photoUrl: random.chance(0.3) ? `https://cdn.sprinthub.app/photos/${id}.jpg` : null,
		address: random.chance(0.7) ? `Rua ${random.pick(LAST_NAMES)}, ${random.int(1, 2000)}` : '',
		city: random.chance(0.9) ? city : '',
		state: random.chance(0.9) ? state : null,
		country: random.pick(['Brasil', 'BR', 'Brazil', '']),
		zipcode: random.pick([() => `${digits(random, 5)}-${digits(random, 3)}`, () => digits(random, 8), () => Number(digits(random, 8)), () => ''])(),
		timezone: random.pick(['America/Sao_Paulo', 'America/Sao_Paulo', '', null]),
		company: random.chance(0.6) ? random.pick(COMPANIES) : random.chance(0.5) ? '' : null,
		points: random.pick([() => random.int(0, 300), () => String(random.int(0, 300)), () => '', () => 0])(),
		owner: owner ? owner.id : null,
		stage: random.chance(0.8) ? random.pick(STAGES) : null,
		archived: times.archived,
		preferred_locale: random.pick(['pt_BR', 'pt_BR', 'en_US', '', null]),
		userAccess: random.chance(0.5) ? [] : [random.pick(profile.users).id],
		departmentAccess: random.pick([() => [], () => [random.int(1, 9)], () => null])(),
		ignoreSubDepartments: random.chance(0.2),
		thirdPartyData: random.pick([
			() => null,
			() => ({}),
			() => ({ facebook: { leadgenId: digits(random, 15), formId: digits(random, 12) } }),
			() => ({ rdstation: { uuid: `rd-${hash32(profile.seed, id, 12).toString(16)}`, tags: ['importado'] } }),
		])(),
		channelRestrictions: random.pick([() => [], () => ({ email: random.chance(0.5), whatsapp: random.chance(0.5), sms: false }), () => null])(),
		createdBy: createdByRoll < 0.5 ? creator.id : createdByRoll < 0.75 ? String(creator.id) : random.pick(['api', 'sys', 'form', 'imp']),
		createdByName: createdByRoll < 0.75 ? creator.name : random.pick(['API', 'Formulário', '']),
		createdByType: createdByRoll < 0.75 ? 'user' : random.pick(['api', 'form', 'import']),
		updatedBy: random.pick([() => random.pick(profile.users).id, () => String(random.pick(profile.users).id), () => null])(),
		updatedByName: random.chance(0.7) ? random.pick(profile.users).name : null,
		createdByUtm: random.pick([() => [utm], () => utm, () => [], () => [utm, { ...utm, utm_source: random.pick(UTM_SOURCES) }]])(),
		ips: random.chance(0.6) ? [`187.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`] : [],
		companyData: random.chance(0.5) ? { companyname: random.pick(COMPANIES), cnpj: digits(random, 14) } : null,
		createDate: iso(times.createMs),
		updatedDate: iso(times.updatedMs),
		lastActive:
			lastActiveRoll < 0.6
				? iso(times.updatedMs + Math.floor(random.next() * 86_400_000))
				: lastActiveRoll < 0.75
					? null
					: lastActiveRoll < 0.9
						? ''
						: random.pick(['Invalid date', '0000-00-00 00:00:00']),
	};
	for (const field of profile.customFields) record[field.alias] = customValue(random, field);
	return record;
}

/** New values for a changed lead: a few fields move; the caller moves updatedDate. */
export function changedFields(profile: AccountProfile, id: number, generation: number): LeadRecord {
	const random = new Random(hash32(profile.seed, id, generation, 0xc4a6));
	const changes: LeadRecord = {
		points: random.chance(0.5) ? random.int(0, 900) : String(random.int(0, 900)),
		stage: random.pick(STAGES),
	};
	const field = random.pick(profile.customFields);
	changes[field.alias] = customValue(random, field);
	if (random.chance(0.5)) changes.lastActive = new Date(Date.now()).toISOString();
	return changes;
}

/** The same lead as segment lists show it: owner as {completName}, plus fullname. */
export function toListForm(profile: AccountProfile, detail: LeadRecord): LeadRecord {
	const listed: LeadRecord = { ...detail };
	const ownerId = detail.owner;
	if (ownerId === null || ownerId === undefined || ownerId === '') listed.owner = null;
	else listed.owner = { completName: profile.users.find((user) => user.id === Number(ownerId))?.name ?? '' };
	listed.fullname = `${String(detail.firstname ?? '')} ${String(detail.lastname ?? '')}`.trim();
	return listed;
}
