/**
 * Installs a community-node package tarball into an n8n user folder the way n8n does: under
 * `<userFolder>/.n8n/nodes/node_modules/<package>`, with install scripts disabled and without dev or
 * peer dependencies (n8n strips peerDependencies, and n8n-workflow comes from n8n itself). n8n then
 * loads its nodes and credentials under `<package name>.<node name>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { repoRoot } from './paths';
import { runCommand, tail } from './processes';

export interface InstalledPackage {
	name: string;
	version: string;
	dir: string;
}

export async function installPackageTarball(userFolder: string, tarballPath: string): Promise<InstalledPackage> {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	fs.mkdirSync(nodesDir, { recursive: true });
	const packageJsonPath = path.join(nodesDir, 'package.json');
	if (!fs.existsSync(packageJsonPath)) {
		fs.writeFileSync(packageJsonPath, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
	}
	const result = await runCommand(
		'npm',
		[
			'install',
			'--ignore-scripts',
			'--omit=dev',
			'--omit=peer',
			'--legacy-peer-deps',
			'--no-audit',
			'--no-fund',
			'--package-lock=false',
			'--bin-links=false',
			path.resolve(tarballPath),
		],
		{ cwd: nodesDir, env: process.env, timeoutMs: 180_000 },
	);
	if (result.code !== 0) throw new Error(`npm install ${tarballPath} failed\n${tail(result.stdout + result.stderr, 30)}`);
	const dependencies = (JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { dependencies: Record<string, string> }).dependencies;
	const name = Object.keys(dependencies).find((dependency) => dependencies[dependency].includes(path.basename(tarballPath)));
	if (!name) throw new Error(`npm did not record ${tarballPath} in ${packageJsonPath}`);
	const dir = path.join(nodesDir, 'node_modules', name);
	const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
	return { name, version, dir };
}

/** `npm run build` of this repository, then its `npm pack` into `outDir`; returns the tarball path. */
export async function buildAndPackPackage(outDir: string): Promise<string> {
	const build = await runCommand('npm', ['run', 'build'], { cwd: repoRoot, env: process.env, timeoutMs: 600_000 });
	if (build.code !== 0) throw new Error(`npm run build exited ${build.code}\n${tail(build.stdout + build.stderr, 40)}`);
	return packPackage(repoRoot, outDir);
}

/** `npm pack` of a package folder into `outDir`; returns the tarball path. */
export async function packPackage(packageDir: string, outDir: string): Promise<string> {
	fs.mkdirSync(outDir, { recursive: true });
	const result = await runCommand('npm', ['pack', '--ignore-scripts', '--json', `--pack-destination=${outDir}`], {
		cwd: packageDir,
		env: process.env,
		timeoutMs: 120_000,
	});
	if (result.code !== 0) throw new Error(`npm pack in ${packageDir} failed\n${tail(result.stdout + result.stderr, 30)}`);
	const [packed] = JSON.parse(result.stdout) as Array<{ filename: string }>;
	return path.join(outDir, packed.filename);
}
