import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { parseArguments } from '../support/simulator/main';

const ROOT = path.resolve(__dirname, '..', '..');

describe('SprintHub simulator: standalone process', () => {
	test('parses the command line, refusing what it does not understand', () => {
		expect(parseArguments(['--port', '0', '--seed', '5', '--segments', '101:Hot leads:5000,102:Cold: Q1:20000', '--rate', '20/1000', '--rate-mode', '429'])).toMatchObject({
			port: 0,
			seed: 5,
			segments: [
				{ id: 101, name: 'Hot leads', size: 5000 },
				{ id: 102, name: 'Cold: Q1', size: 20000 },
			],
			rateLimit: { requests: 20, windowMs: 1000, mode: '429' },
		});
		expect(parseArguments(['--rate', 'off']).rateLimit).toBeNull();
		expect(parseArguments([]).rateLimit).toEqual({ requests: 100, windowMs: 60_000, mode: '401' });
		expect(() => parseArguments(['--segments', 'hot:10'])).toThrow(/id:name:size/);
		expect(() => parseArguments(['--rate', 'fast'])).toThrow(/requests\/windowMs/);
		expect(() => parseArguments(['--colour', 'blue'])).toThrow(/unknown option --colour/);
	});

	test('prints base URL, instance and token, answers, and exits cleanly on SIGTERM', async () => {
		const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/support/simulator/main.ts', '--port', '0', '--seed', '9', '--segments', '101:Hot leads:300'], {
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		try {
			let output = '';
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
			});
			const deadline = Date.now() + 20_000;
			while (!/token: \S+/.test(output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
			const baseUrl = /base URL: (\S+)/.exec(output)?.[1];
			const instance = /instance: (\S+)/.exec(output)?.[1];
			const token = /token: (\S+)/.exec(output)?.[1];
			expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
			const response = await fetch(`${baseUrl}/leadsfromtype/segment/101?i=${instance}`, {
				method: 'POST',
				headers: { apitoken: token!, 'content-type': 'application/json' },
				body: JSON.stringify({ page: 0, limit: 1, query: '{total}' }),
			});
			expect(response.status).toBe(200);
			const body = (await response.json()) as { data: { total: number } };
			expect(body.data.total).toBeGreaterThan(250);
			const exited = once(child, 'exit');
			child.kill('SIGTERM');
			const [code] = await exited;
			expect(code).toBe(0);
		} finally {
			if (child.exitCode === null) child.kill('SIGKILL');
		}
	});
});
