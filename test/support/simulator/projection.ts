/**
 * The GraphQL-like `query` of SprintHub list calls, e.g. `{total,leads{id,owner{completName},createDate}}`.
 * A selection names fields; a name followed by `{…}` selects inside an object (or each object of an array).
 */

export type Selection = Map<string, Selection | null>;

export class ProjectionSyntaxError extends Error {}

export function parseSelection(text: string): Selection {
	let position = 0;
	const skipSpace = (): void => {
		while (position < text.length && /[\s,]/.test(text[position])) position++;
	};
	const parseBlock = (): Selection => {
		skipSpace();
		if (text[position] !== '{') throw new ProjectionSyntaxError(`expected "{" at ${position}`);
		position++;
		const selection: Selection = new Map();
		for (;;) {
			skipSpace();
			if (position >= text.length) throw new ProjectionSyntaxError('unbalanced braces');
			if (text[position] === '}') {
				position++;
				return selection;
			}
			const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(position));
			if (!match) throw new ProjectionSyntaxError(`unexpected "${text[position]}" at ${position}`);
			position += match[0].length;
			skipSpace();
			selection.set(match[0], text[position] === '{' ? parseBlock() : null);
		}
	};
	const selection = parseBlock();
	skipSpace();
	if (position !== text.length) throw new ProjectionSyntaxError(`unexpected text after the selection at ${position}`);
	return selection;
}

/** Keeps only the selected fields; unknown names are left out, as the API omits fields a record lacks. */
export function project(value: unknown, selection: Selection | null): unknown {
	if (selection === null || value === null || value === undefined) return value;
	if (Array.isArray(value)) return value.map((item) => project(item, selection));
	if (typeof value !== 'object') return value;
	const source = value as Record<string, unknown>;
	const result: Record<string, unknown> = {};
	for (const [name, inner] of selection) {
		if (!(name in source)) continue;
		result[name] = project(source[name], inner);
	}
	return result;
}
