// The build: clean → type-check → bundle each entry with esbuild → copy icons.
// Bundling puts @supabase/supabase-js, undici and ws inside dist/, because n8n installs community
// packages with scripts disabled and its rules forbid runtime dependencies; only n8n-workflow
// (provided by n8n itself) stays external.
const { series, src, dest } = require('gulp');
const { rmSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const entries = [
	{ in: 'nodes/SprintHubSegmentSync/SprintHubSegmentSync.node.ts', out: 'dist/nodes/SprintHubSegmentSync/SprintHubSegmentSync.node.js' },
	{ in: 'nodes/SprintHubLeadTrigger/SprintHubLeadTrigger.node.ts', out: 'dist/nodes/SprintHubLeadTrigger/SprintHubLeadTrigger.node.js' },
	{ in: 'credentials/SprintHubApi.credentials.ts', out: 'dist/credentials/SprintHubApi.credentials.js' },
	{ in: 'cli/sprinthub-sync.ts', out: 'dist/cli/sprinthub-sync.js', banner: '#!/usr/bin/env node' },
];

function clean(done) {
	rmSync('dist', { recursive: true, force: true });
	done();
}

function typeCheck(done) {
	execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], { stdio: 'inherit' });
	done();
}

/** esbuild's options for one entry; test/packaging/bundle.test.ts analyses the bundles with these same options. */
function esbuildOptions(entry) {
	return {
		absWorkingDir: __dirname,
		entryPoints: [entry.in],
		outfile: entry.out,
		bundle: true,
		platform: 'node',
		target: 'node20',
		format: 'cjs',
		sourcemap: false,
		minify: false,
		legalComments: 'linked',
		// Provided by n8n at run time; ws's native speed-ups are optional and absent.
		external: ['n8n-workflow', 'bufferutil', 'utf-8-validate'],
		banner: entry.banner ? { js: entry.banner } : undefined,
		logLevel: 'warning',
	};
}

async function bundle() {
	const { existsSync } = require('node:fs');
	await Promise.all(entries.filter((entry) => existsSync(entry.in)).map((entry) => esbuild.build(esbuildOptions(entry))));
}

function copyAssets() {
	// Icons, and the codex file n8n reads beside the node (categories, documentation links).
	return src(['nodes/**/*.svg', 'credentials/**/*.svg', 'nodes/**/*.node.json'], { base: '.', encoding: false }).pipe(dest('dist'));
}

// Not a task (gulp registers only functions): what the packaging test needs to bundle as the build does.
exports.bundles = { entries, esbuildOptions };
exports.clean = clean;
exports.build = series(clean, typeCheck, bundle, copyAssets);
exports.default = exports.build;
