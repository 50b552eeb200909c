#!/usr/bin/env node
/**
 * Before `npm publish` (the release workflow runs it): the repository and homepage in package.json are
 * the one place that says where this package lives, and they must not be the placeholder this
 * repository ships with. The documentation links n8n shows (credential, node, codex) must point at the
 * same repository. Under GitHub Actions the repository must also be the one the workflow runs in: npm
 * provenance refuses a package whose repository.url names another one. With --tag vX.Y.Z the tag must
 * equal package.json's version.
 *
 *   node scripts/check-publish.js [--tag v1.2.3]
 *
 * Prints what to change and exits 1 when something is off. Plain JavaScript: it runs before `npm ci`.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
/** The address this repository ships with until a fork sets its own (README: "Before publishing a fork"). */
const PLACEHOLDER = 'github.com/n8n-nodes-sprinthub-sync/n8n-nodes-sprinthub-sync';
/** Files whose documentation links must point at package.json's repository. */
const LINKED_FILES = [
	'credentials/SprintHubApi.credentials.ts',
	'nodes/SprintHubSegmentSync/actions/versionDescription.ts',
	'nodes/SprintHubSegmentSync/SprintHubSegmentSync.node.json',
];

function repositoryBase(url) {
	const match = /github\.com[/:]([^/]+)\/([^/#?]+?)(?:\.git)?(?:[#?/].*)?$/.exec(String(url ?? ''));
	return match ? `github.com/${match[1]}/${match[2]}` : undefined;
}

function main() {
	const problems = [];
	const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
	const repositoryUrl = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
	const base = repositoryBase(repositoryUrl);
	if (!base) problems.push(`package.json repository.url is not a GitHub repository URL: ${JSON.stringify(repositoryUrl)}`);
	else if (base === PLACEHOLDER) problems.push(`package.json repository.url is still the placeholder ${repositoryUrl}: set it to your repository`);
	if (repositoryBase(pkg.homepage) !== base) problems.push(`package.json homepage (${pkg.homepage}) is not the repository's (${base ?? 'none'})`);
	if (base) {
		for (const file of LINKED_FILES) {
			const text = fs.readFileSync(path.join(root, file), 'utf8');
			for (const link of text.match(/https:\/\/github\.com\/[^\s'"#)]+/g) ?? []) {
				if (repositoryBase(link) !== base) problems.push(`${file} links to ${link}, not to ${base}`);
			}
		}
	}
	const running = process.env.GITHUB_ACTIONS === 'true' && process.env.GITHUB_REPOSITORY;
	if (running && base && base.toLowerCase() !== `github.com/${process.env.GITHUB_REPOSITORY}`.toLowerCase()) {
		problems.push(`this workflow runs in github.com/${process.env.GITHUB_REPOSITORY} but package.json names ${base}: npm provenance would refuse it`);
	}
	const tagIndex = process.argv.indexOf('--tag');
	if (tagIndex !== -1) {
		const tag = process.argv[tagIndex + 1] ?? '';
		if (tag.replace(/^v/, '') !== pkg.version) problems.push(`the tag ${tag} is not package.json's version ${pkg.version} (tag v${pkg.version})`);
	}
	if (problems.length > 0) {
		console.error(`Not ready to publish:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nSee README.md → "Before publishing a fork".`);
		process.exit(1);
	}
	console.log(`Ready to publish ${pkg.name}@${pkg.version} from ${base}.`);
}

main();
