import { redactSecrets } from '../../../engine';

/**
 * The secrets of one execution (SprintHub token, Supabase service key). Every text the node returns
 * or throws passes through `redact`, whatever the engine already removed; which strings count as
 * secrets, and what replaces them, is decided by the engine's one `redactSecrets`.
 */
export class ExecutionSecrets {
	private readonly values = new Set<string>();

	add(...secrets: Array<string | undefined | null>): void {
		for (const secret of secrets) {
			if (typeof secret === 'string') this.values.add(secret);
		}
	}

	redact(text: string): string;
	redact(text: string | undefined): string | undefined;
	redact(text: string | undefined): string | undefined {
		if (typeof text !== 'string') return text;
		return redactSecrets(text, [...this.values]);
	}

	/** A deep copy of a JSON value with every string redacted. */
	redactJson<T>(value: T): T {
		if (typeof value === 'string') return this.redact(value) as T;
		if (Array.isArray(value)) return value.map((entry) => this.redactJson(entry)) as T;
		if (value && typeof value === 'object') {
			const copy: Record<string, unknown> = {};
			for (const [key, entry] of Object.entries(value)) copy[key] = this.redactJson(entry);
			return copy as T;
		}
		return value;
	}
}
