/**
 * Writes a minimal community-node package (plain JS) for proving the package-install path before the
 * real package exists: node `n8n-nodes-e2e-probe.e2eProbe`, credential `e2eProbeApi`. The node
 * requires `n8n-workflow` at run time (as a built package does) and reports the process and Node
 * version it ran in. Generated at test time because the repository ignores every `dist/` folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const probePackageName = 'n8n-nodes-e2e-probe';
export const probeNodeType = `${probePackageName}.e2eProbe`;
export const probeCredentialType = 'e2eProbeApi';

export function writeProbePackage(dir: string): string {
	const files: Record<string, string> = {
		'package.json': JSON.stringify(
			{
				name: probePackageName,
				version: '0.0.1',
				license: 'MIT',
				main: 'index.js',
				keywords: ['n8n-community-node-package'],
				files: ['index.js', 'dist'],
				n8n: {
					n8nNodesApiVersion: 1,
					credentials: ['dist/credentials/E2eProbeApi.credentials.js'],
					nodes: ['dist/nodes/E2eProbe/E2eProbe.node.js'],
				},
				peerDependencies: { 'n8n-workflow': '*' },
			},
			null,
			2,
		),
		'index.js': 'module.exports = {};\n',
		'dist/credentials/E2eProbeApi.credentials.js': `'use strict';
class E2eProbeApi {
	constructor() {
		this.name = 'e2eProbeApi';
		this.displayName = 'E2E Probe API';
		this.properties = [{ displayName: 'Secret', name: 'secret', type: 'string', typeOptions: { password: true }, default: '' }];
	}
}
module.exports = { E2eProbeApi };
`,
		'dist/nodes/E2eProbe/E2eProbe.node.js': `'use strict';
const { NodeOperationError } = require('n8n-workflow');
class E2eProbe {
	constructor() {
		this.description = {
			displayName: 'E2E Probe', name: 'e2eProbe', group: ['transform'], version: 1,
			description: 'Reports where it ran', defaults: { name: 'E2E Probe' },
			inputs: ['main'], outputs: ['main'],
			credentials: [{ name: 'e2eProbeApi', required: true }],
			properties: [{ displayName: 'Label', name: 'label', type: 'string', default: '' }],
		};
	}
	async execute() {
		const credentials = await this.getCredentials('e2eProbeApi');
		if (!credentials.secret) throw new NodeOperationError(this.getNode(), 'no secret');
		return [this.getInputData().map((item, index) => ({
			json: {
				label: this.getNodeParameter('label', index),
				secretLength: String(credentials.secret).length,
				nodeVersion: process.version,
				pid: process.pid,
				hasNodeOperationError: typeof NodeOperationError === 'function',
			},
			pairedItem: { item: index },
		}))];
	}
}
module.exports = { E2eProbe };
`,
	};
	for (const [relative, content] of Object.entries(files)) {
		const file = path.join(dir, relative);
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, content);
	}
	return dir;
}
