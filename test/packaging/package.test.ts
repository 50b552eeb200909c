import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	name: string;
	version: string;
	dependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
	n8n: { nodes: string[]; credentials: string[] };
	scripts: Record<string, string>;
};

/**
 * What n8n does with a community package: installs the tarball with scripts disabled next to its own
 * n8n-workflow, then loads the files the `n8n` section lists. Nothing else may be needed.
 */
describe('the published package', () => {
	let work: string;
	let tarball: string;
	let files: string[];

	beforeAll(() => {
		if (!pkg.n8n.nodes.concat(pkg.n8n.credentials).every((file) => existsSync(join(root, file)))) {
			execSync('npm run build', { cwd: root, stdio: 'ignore' });
		}
		work = mkdtempSync(join(tmpdir(), 'sprinthub-sync-pack-'));
		const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' })) as Array<{
			filename: string;
			files: Array<{ path: string }>;
		}>;
		tarball = join(work, packed[0].filename);
		files = packed[0].files.map((file) => file.path);
	}, 240_000);
	afterAll(() => work && rmSync(work, { recursive: true, force: true }));

	it('has no runtime dependency and only n8n-workflow as peer, and no install scripts', () => {
		expect(pkg.dependencies ?? {}).toEqual({});
		expect(pkg.peerDependencies).toEqual({ 'n8n-workflow': '*' });
		for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[script]).toBeUndefined();
	});

	it('ships the bundles, icons, migrations, README and LICENSE, and no sources or tests', () => {
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials, 'README.md', 'LICENSE', 'package.json']) expect(files).toContain(file);
		expect(files).toContain('dist/nodes/SprintHubSegmentSync/sprinthub.svg');
		expect(files).toContain('dist/nodes/SprintHubSegmentSync/sprinthub.dark.svg');
		expect(files).toContain('dist/nodes/SprintHubLeadTrigger/sprinthub.svg');
		expect(files).toContain('dist/nodes/SprintHubLeadTrigger/sprinthub.dark.svg');
		expect(files.some((file) => /^supabase\/migrations\/\d+_.+\.sql$/.test(file))).toBe(true);
		// What db push --include-roles runs first (the upgrade from the original system): the README's command needs it.
		expect(files).toContain('supabase/roles.sql');
		expect(files.filter((file) => file.startsWith('test/') || file.endsWith('.ts') || file.startsWith('node_modules/'))).toEqual([]);
	});

	it('ships the four bundled workflows, each with its id', () => {
		const bundled = ['sprinthub-segment-sync.json', 'sprinthub-sync-error-alerts.json', 'sprinthub-lead-webhook.json', 'sprinthub-sync-dashboard.json'];
		expect(files.filter((file) => file.startsWith('workflows/')).sort()).toEqual(bundled.map((file) => `workflows/${file}`).sort());
		const ids = bundled.map((file) => (JSON.parse(readFileSync(join(root, 'workflows', file), 'utf8')) as { id: string }).id);
		expect(ids).toEqual(['sprinthubSegmentSync', 'sprinthubSyncAlerts', 'sprinthubLeadWebhook', 'sprinthubSyncDashboard']);
	});

	it('loads its nodes and credential in a clean folder that has only n8n-workflow', () => {
		const app = join(work, 'n8n-user-folder');
		execSync(`mkdir -p ${app}`);
		writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'clean', version: '1.0.0', private: true }));
		const workflowVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'n8n-workflow', 'package.json'), 'utf8')).version as string;
		execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball, `n8n-workflow@${workflowVersion}`], {
			cwd: app,
			stdio: 'ignore',
		});
		const installed = execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: app, encoding: 'utf8' });
		expect(installed).not.toMatch(/node_modules\/(@supabase|undici|ws)(\/|$)/m);

		const probe = `
			const base = require.resolve('${pkg.name}/package.json');
			const dir = require('path').dirname(base);
			const { n8n } = require(base);
			const out = {};
			for (const file of [...n8n.nodes, ...n8n.credentials]) {
				const mod = require(require('path').join(dir, file));
				const Cls = Object.values(mod)[0];
				const instance = new Cls();
				out[file] = instance.description ? { name: instance.description.name, operations: instance.description.properties.length } : { name: instance.name };
			}
			console.log(JSON.stringify(out));`;
		const loaded = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: app, encoding: 'utf8' })) as Record<string, { name: string }>;
		expect(pkg.n8n.nodes.map((file) => loaded[file].name)).toEqual(['sprintHubSegmentSync', 'sprintHubLeadTrigger']);
		expect(loaded[pkg.n8n.credentials[0]].name).toBe('sprintHubApi');
	}, 240_000);
});
