/**
 * An HTTPS server on 127.0.0.1 that answers like the Slack Web API and records what n8n's Slack node
 * sends. Its certificate (self-signed, CN/SAN slack.com, made with openssl at test time) is trusted
 * only inside the n8n process, which also gets a preload that sends slack.com to this server
 * (see redirectHostsPreload.js and `n8nProcessEnv`).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface SlackApiCall {
	/** Web API method, e.g. 'chat.postMessage'. */
	method: string;
	/** The bearer token n8n sent (the test credential, never a real one). */
	token: string | null;
	body: Record<string, unknown>;
	query: Record<string, string>;
}

export interface CapturedSlackMessage {
	channel: string;
	text: string;
	blocks: unknown;
	attachments: unknown;
	token: string | null;
}

export interface SlackCapture {
	port: number;
	certPath: string;
	/** Every Web API call received, in order. */
	calls: SlackApiCall[];
	/** The chat.postMessage calls, as messages. */
	messages: CapturedSlackMessage[];
	/** Environment for the n8n process only: trust the certificate and send slack.com here. */
	n8nProcessEnv(): Record<string, string>;
	/** Makes chat.postMessage answer `{ok:false,error}` (as Slack does) until reset with null. */
	failPostMessageWith(error: string | null): void;
	waitForMessages(count: number, timeoutMs: number): Promise<CapturedSlackMessage[]>;
	clear(): void;
	close(): Promise<void>;
}

const preloadPath = path.join(__dirname, 'redirectHostsPreload.js');

export function createSelfSignedCertificate(dir: string, hostname: string): { keyPath: string; certPath: string } {
	fs.mkdirSync(dir, { recursive: true });
	const keyPath = path.join(dir, `${hostname}.key.pem`);
	const certPath = path.join(dir, `${hostname}.cert.pem`);
	execFileSync(
		'openssl',
		[
			'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
			'-keyout', keyPath, '-out', certPath,
			'-subj', `/CN=${hostname}`,
			'-addext', `subjectAltName=DNS:${hostname},DNS:*.${hostname}`,
		],
		{ stdio: 'ignore' },
	);
	return { keyPath, certPath };
}

export async function startSlackCapture(workDir: string): Promise<SlackCapture> {
	const { keyPath, certPath } = createSelfSignedCertificate(workDir, 'slack.com');
	const calls: SlackApiCall[] = [];
	const messages: CapturedSlackMessage[] = [];
	let postMessageError: string | null = null;
	let sequence = 0;

	const server = https.createServer({ key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath) }, (request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const url = new URL(request.url ?? '/', 'https://slack.com');
			const method = url.pathname.replace(/^\/api\//, '');
			const body = parseBody(Buffer.concat(chunks).toString('utf8'), String(request.headers['content-type'] ?? ''));
			const authorization = String(request.headers.authorization ?? '');
			const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : (body.token as string | undefined) ?? null;
			calls.push({ method, token, body, query: Object.fromEntries(url.searchParams) });
			const answer = (status: number, payload: unknown) => {
				response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
				response.end(JSON.stringify(payload));
			};
			if (!url.pathname.startsWith('/api/')) return answer(404, { ok: false, error: 'unknown_method' });
			switch (method) {
				case 'chat.postMessage': {
					if (postMessageError) return answer(200, { ok: false, error: postMessageError });
					const channelName = String(body.channel ?? '');
					const ts = `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;
					messages.push({
						channel: channelName,
						text: String(body.text ?? ''),
						blocks: decodeJsonField(body.blocks),
						attachments: decodeJsonField(body.attachments),
						token,
					});
					return answer(200, {
						ok: true,
						channel: channelIdFor(channelName),
						ts,
						message: { type: 'message', subtype: 'bot_message', text: body.text ?? '', user: 'U0E2EBOT01', bot_id: 'B0E2EBOT01', ts },
					});
				}
				case 'auth.test':
					return answer(200, { ok: true, url: 'https://e2e.slack.com/', team: 'e2e', user: 'e2e-bot', team_id: 'T0E2E00001', user_id: 'U0E2EBOT01' });
				default:
					return answer(200, { ok: false, error: 'unknown_method' });
			}
		});
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const port = (server.address() as AddressInfo).port;

	return {
		port,
		certPath,
		calls,
		messages,
		n8nProcessEnv() {
			return {
				NODE_EXTRA_CA_CERTS: certPath,
				NODE_OPTIONS: `--require ${preloadPath}`,
				E2E_REDIRECT_HOSTS: 'slack.com',
				E2E_REDIRECT_PORT: String(port),
			};
		},
		failPostMessageWith(error) {
			postMessageError = error;
		},
		async waitForMessages(count, timeoutMs) {
			const deadline = Date.now() + timeoutMs;
			while (messages.length < count) {
				if (Date.now() > deadline) throw new Error(`Slack capture: expected ${count} message(s), got ${messages.length}`);
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			return messages.slice();
		},
		clear() {
			calls.length = 0;
			messages.length = 0;
		},
		close() {
			server.closeAllConnections();
			return new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

/** A stable Slack-like channel id per channel name, e.g. '#alerts' -> 'C' + 10 characters. */
function channelIdFor(channel: string): string {
	if (/^[CGD][A-Z0-9]{8,}$/.test(channel)) return channel;
	let hash = 0;
	for (const char of channel) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
	return `C${hash.toString(36).toUpperCase().padStart(10, '0').slice(0, 10)}`;
}

function parseBody(text: string, contentType: string): Record<string, unknown> {
	if (text === '') return {};
	if (contentType.includes('application/json')) {
		try {
			return JSON.parse(text) as Record<string, unknown>;
		} catch {
			return { unparsed: text };
		}
	}
	return Object.fromEntries(new URLSearchParams(text));
}

function decodeJsonField(value: unknown): unknown {
	if (typeof value !== 'string') return value;
	try {
		return JSON.parse(value);
	} catch {
		return value;
	}
}
