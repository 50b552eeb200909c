/**
 * The arguments split into flags and positionals, with our own messages. Node's strict parseArgs
 * errors are written for programmers ("…place it at the end of the command after '--', as in '-- "-x"'")
 * and take a negative number for an option; this reads its tokens leniently and says plainly what
 * is wrong instead.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors';

export type OptionSpec = Record<string, { type: 'boolean' | 'string'; short?: string }>;

export interface CommandLine {
	flags: Record<string, unknown>;
	positionals: string[];
	/** Options the CLI does not have, as typed (e.g. "--bogus-flag", "-x"); main.ts says which command's help to read. */
	unknownOptions: string[];
}

/** A word that starts with a dash and a digit is a (negative) number, e.g. `sync -1`: a positional, not an option. */
const NUMBER_LIKE = /^-\d/;

export function parseCommandLine(argv: string[], options: OptionSpec): CommandLine {
	const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
	const flags: Record<string, unknown> = {};
	const positionals: string[] = [];
	const unknownOptions: string[] = [];
	// A group such as "-12" comes as one token per letter, all with the index of the word typed.
	const wordsTaken = new Set<number>();
	for (const token of tokens) {
		if (token.kind === 'positional') {
			positionals.push(token.value);
			continue;
		}
		if (token.kind !== 'option') continue;
		const typed = argv[token.index];
		if (NUMBER_LIKE.test(typed)) {
			if (!wordsTaken.has(token.index)) positionals.push(typed);
			wordsTaken.add(token.index);
			continue;
		}
		const spec = Object.prototype.hasOwnProperty.call(options, token.name) ? options[token.name] : undefined;
		if (!spec) {
			if (!unknownOptions.includes(token.rawName)) unknownOptions.push(token.rawName);
			continue;
		}
		const display = `--${token.name}`;
		if (spec.type === 'boolean') {
			if (token.value !== undefined) throw new UsageError(`${display} takes no value: write ${display} alone, not ${display}=${token.value}.`);
			flags[token.name] = true;
			continue;
		}
		if (token.value === undefined) throw new UsageError(`${display} needs a value: write ${display} VALUE or ${display}=VALUE (the command's --help lists the values).`);
		// "--name --json": the next word is an option, not the value (a negative number is let through for the flag's own check).
		// A lone "-" is a value: standard input, as in --token-file -.
		if (!token.inlineValue && token.value.startsWith('-') && token.value !== '-' && !NUMBER_LIKE.test(token.value)) {
			throw new UsageError(`${display} needs a value, but "${token.value}" follows it; to pass a value that starts with a dash, write ${display}=${token.value}.`);
		}
		flags[token.name] = token.value;
	}
	return { flags, positionals, unknownOptions };
}
