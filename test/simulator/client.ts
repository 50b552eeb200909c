import type { Simulator } from '../support/simulator';

/** Plain fetch calls against a running simulator, the way a production caller makes them. */

export interface Answer<T = unknown> {
	status: number;
	headers: Headers;
	text: string;
	json: T;
}

// Tests read whatever JSON a call answered and assert on its paths.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseJson = any;

export type AuthForm = 'query' | 'header' | 'bearer' | 'none';

export async function call<T = LooseJson>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
	const response = await fetch(url, init);
	const text = await response.text();
	let json: LooseJson;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: response.status, headers: response.headers, text, json };
}

export function withAuth(sim: Simulator, path: string, auth: AuthForm = 'query', token = sim.token, instance: string | null = sim.instance): { url: string; headers: Record<string, string> } {
	const url = new URL(path, sim.baseUrl);
	if (instance !== null) url.searchParams.set('i', instance);
	const headers: Record<string, string> = {};
	if (auth === 'query') url.searchParams.set('apitoken', token);
	if (auth === 'header') headers.apitoken = token;
	if (auth === 'bearer') headers.authorization = `Bearer ${token}`;
	return { url: url.toString(), headers };
}

export function segmentPage<T = LooseJson>(sim: Simulator, segmentId: number | string, body: Record<string, unknown>, auth: AuthForm = 'query'): Promise<Answer<T>> {
	const { url, headers } = withAuth(sim, `/leadsfromtype/segment/${segmentId}`, auth);
	return call<T>(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export function leadDetail<T = LooseJson>(sim: Simulator, id: number | string, allFields = true): Promise<Answer<T>> {
	const { url, headers } = withAuth(sim, `/leads/${id}${allFields ? '?allFields=1' : ''}`, 'header');
	return call<T>(url, { headers });
}

export function getPath<T = LooseJson>(sim: Simulator, pathWithQuery: string, auth: AuthForm = 'query'): Promise<Answer<T>> {
	const { url, headers } = withAuth(sim, pathWithQuery, auth);
	return call<T>(url, { headers });
}

/** Every id of a segment, page by page, stopping on an empty page. */
export async function allIds(sim: Simulator, segmentId: number, limit: number, extra: Record<string, unknown> = {}): Promise<number[]> {
	const ids: number[] = [];
	for (let page = 0; ; page++) {
		const answer = await segmentPage(sim, segmentId, { page, limit, query: '{total,leads{id}}', ...extra });
		if (answer.status !== 200) throw new Error(`page ${page}: HTTP ${answer.status} ${answer.text}`);
		const leads: { id: number }[] = answer.json.data.leads;
		if (leads.length === 0) return ids;
		ids.push(...leads.map((lead) => lead.id));
	}
}
