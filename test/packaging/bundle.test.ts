import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const root = join(__dirname, '..', '..');

interface Entry {
	in: string;
	out: string;
}

// The build's own entries and esbuild options, so these are the bundles `npm run build` writes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bundles } = require(join(root, 'gulpfile.js')) as { bundles: { entries: Entry[]; esbuildOptions(entry: Entry): BuildOptions } };

/**
 * What ships: the node and the CLI bundled in memory (nothing is written, no previous build is
 * read), checked for code that belongs to the tests.
 */
describe('the node and CLI bundles', () => {
	const analysed: Array<{ entry: string; inputs: string[]; text: string }> = [];

	beforeAll(async () => {
		const shipped = bundles.entries.filter((entry) => /^(nodes|cli)\//.test(entry.in));
		for (const entry of shipped) {
			const result = await build({ ...bundles.esbuildOptions(entry), write: false, metafile: true, logLevel: 'silent' });
			const metafile = result.metafile as Metafile;
			analysed.push({
				entry: entry.in,
				inputs: Object.keys(metafile.inputs),
				text: result.outputFiles.map((file) => file.text).join('\n'),
			});
		}
	}, 60_000);

	it('bundles the sync node and the CLI, each with the engine inside, and the lead trigger without it', () => {
		expect(analysed.map((bundle) => bundle.entry).sort()).toEqual([
			'cli/sprinthub-sync.ts',
			'nodes/SprintHubLeadTrigger/SprintHubLeadTrigger.node.ts',
			'nodes/SprintHubSegmentSync/SprintHubSegmentSync.node.ts',
		]);
		for (const bundle of analysed.filter((entry) => !entry.entry.includes('LeadTrigger'))) expect(bundle.inputs).toContain('engine/redaction.ts');
		// The trigger checks a request and passes on an id: no engine, no supabase-js.
		const trigger = analysed.find((entry) => entry.entry.includes('LeadTrigger'))!;
		expect(trigger.inputs.filter((input) => input.startsWith('engine/') || input.includes('node_modules/'))).toEqual([]);
	});

	it('contains no file from test/ and no ManualClock', () => {
		for (const bundle of analysed) {
			expect({ entry: bundle.entry, fromTests: bundle.inputs.filter((input) => input.startsWith('test/')) }).toEqual({ entry: bundle.entry, fromTests: [] });
			expect({ entry: bundle.entry, hasManualClock: bundle.text.includes('ManualClock') }).toEqual({ entry: bundle.entry, hasManualClock: false });
		}
	});
});
