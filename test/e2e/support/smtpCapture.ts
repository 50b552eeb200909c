/**
 * A plain-SMTP capture server on 127.0.0.1 that records what n8n's Send Email node (nodemailer) sends.
 * Speaks the subset nodemailer uses: EHLO/HELO, AUTH PLAIN/LOGIN (any credentials accepted), MAIL FROM,
 * RCPT TO, DATA, RSET, NOOP, QUIT. STARTTLS is not offered, so nodemailer stays in plain text.
 */
import * as net from 'node:net';

export interface CapturedMail {
	/** Envelope sender and recipients (MAIL FROM / RCPT TO). */
	envelopeFrom: string;
	envelopeTo: string[];
	/** Header values, decoded (encoded-words resolved). */
	from: string;
	to: string;
	subject: string;
	/** The text/plain body (decoded), '' if none. */
	text: string;
	/** The text/html body (decoded), '' if none. */
	html: string;
	headers: Record<string, string>;
	/** The user name given in AUTH, if the client authenticated. */
	authUser: string | null;
	raw: string;
}

export interface SmtpCapture {
	port: number;
	messages: CapturedMail[];
	waitForMessages(count: number, timeoutMs: number): Promise<CapturedMail[]>;
	clear(): void;
	close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
	const messages: CapturedMail[] = [];
	const sockets = new Set<net.Socket>();
	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		handleSession(socket, (mail) => messages.push(mail));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const port = (server.address() as net.AddressInfo).port;
	return {
		port,
		messages,
		async waitForMessages(count, timeoutMs) {
			const deadline = Date.now() + timeoutMs;
			while (messages.length < count) {
				if (Date.now() > deadline) throw new Error(`SMTP capture: expected ${count} message(s), got ${messages.length}`);
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			return messages.slice();
		},
		clear() {
			messages.length = 0;
		},
		close() {
			for (const socket of sockets) socket.destroy();
			return new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

function handleSession(socket: net.Socket, onMail: (mail: CapturedMail) => void): void {
	let buffer = '';
	let envelopeFrom = '';
	let envelopeTo: string[] = [];
	let authUser: string | null = null;
	// What the next line is: a command, DATA content, or a step of an AUTH exchange.
	let state: 'command' | 'data' | 'authPlain' | 'authLoginUser' | 'authLoginPassword' = 'command';
	let dataLines: string[] = [];
	const reply = (line: string): void => {
		socket.write(`${line}\r\n`);
	};

	socket.setEncoding('latin1');
	reply('220 smtp-capture.local ESMTP ready');
	socket.on('error', () => socket.destroy());
	socket.on('data', (chunk: string) => {
		buffer += chunk;
		let newline: number;
		while ((newline = buffer.indexOf('\r\n')) !== -1) {
			const line = buffer.slice(0, newline);
			buffer = buffer.slice(newline + 2);
			handleLine(line);
		}
	});

	function handleLine(line: string): void {
		if (state === 'data') {
			if (line === '.') {
				state = 'command';
				const rawBytes = dataLines.join('\r\n');
				onMail({ ...parseMessage(rawBytes), envelopeFrom, envelopeTo, authUser, raw: Buffer.from(rawBytes, 'latin1').toString('utf8') });
				dataLines = [];
				reply('250 2.0.0 Ok: queued');
			} else {
				// Dot-stuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
				dataLines.push(line.startsWith('..') ? line.slice(1) : line);
			}
			return;
		}
		if (state === 'authPlain') {
			authUser = decodeAuthPlain(line);
			state = 'command';
			reply('235 2.7.0 Authentication successful');
			return;
		}
		if (state === 'authLoginUser') {
			authUser = Buffer.from(line, 'base64').toString('utf8');
			state = 'authLoginPassword';
			reply(`334 ${Buffer.from('Password:').toString('base64')}`);
			return;
		}
		if (state === 'authLoginPassword') {
			state = 'command';
			reply('235 2.7.0 Authentication successful');
			return;
		}
		const [verb, ...rest] = line.split(' ');
		const argument = rest.join(' ');
		switch (verb.toUpperCase()) {
			case 'EHLO':
				socket.write('250-smtp-capture.local\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
				return;
			case 'HELO':
				return reply('250 smtp-capture.local');
			case 'AUTH': {
				const [mechanism, initial] = argument.split(' ');
				if (mechanism.toUpperCase() === 'PLAIN') {
					if (initial) {
						authUser = decodeAuthPlain(initial);
						return reply('235 2.7.0 Authentication successful');
					}
					state = 'authPlain';
					return reply('334 ');
				}
				if (mechanism.toUpperCase() === 'LOGIN') {
					if (initial) {
						authUser = Buffer.from(initial, 'base64').toString('utf8');
						state = 'authLoginPassword';
						return reply(`334 ${Buffer.from('Password:').toString('base64')}`);
					}
					state = 'authLoginUser';
					return reply(`334 ${Buffer.from('Username:').toString('base64')}`);
				}
				return reply('504 5.5.4 Unrecognized authentication type');
			}
			case 'MAIL':
				envelopeFrom = angleAddress(argument);
				envelopeTo = [];
				return reply('250 2.1.0 Ok');
			case 'RCPT':
				envelopeTo.push(angleAddress(argument));
				return reply('250 2.1.5 Ok');
			case 'DATA':
				state = 'data';
				dataLines = [];
				return reply('354 End data with <CR><LF>.<CR><LF>');
			case 'RSET':
				envelopeFrom = '';
				envelopeTo = [];
				return reply('250 2.0.0 Ok');
			case 'NOOP':
				return reply('250 2.0.0 Ok');
			case 'QUIT':
				reply('221 2.0.0 Bye');
				socket.end();
				return;
			default:
				return reply('502 5.5.2 Command not recognized');
		}
	}
}

function decodeAuthPlain(base64: string): string {
	// authzid \0 authcid \0 password
	const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
	return parts[1] ?? '';
}

function angleAddress(argument: string): string {
	const match = /<([^>]*)>/.exec(argument);
	return match ? match[1] : argument.replace(/^(FROM|TO):/i, '').trim();
}

interface MimePart {
	headers: Record<string, string>;
	body: string;
}

function splitHeadersAndBody(raw: string): MimePart {
	const separator = raw.indexOf('\r\n\r\n');
	const headerText = separator === -1 ? raw : raw.slice(0, separator);
	const body = separator === -1 ? '' : raw.slice(separator + 4);
	const headers: Record<string, string> = {};
	// Unfold continuation lines, then split "Name: value".
	for (const line of headerText.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { headers, body };
}

/** Resolves RFC 2047 encoded-words (=?utf-8?Q?...?= and =?utf-8?B?...?=). */
export function decodeEncodedWords(value: string): string {
	return value
		.replace(/\?=\s+=\?/g, '?==?')
		.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_whole, _charset: string, encoding: string, text: string) => {
			if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
			const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
			return Buffer.from(bytes, 'latin1').toString('utf8');
		});
}

/** Bodies are kept as latin1 strings (one char per byte) until here, so every encoding decodes to UTF-8 alike. */
function decodeBody(part: MimePart): string {
	const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
	if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
	let bytes = part.body;
	if (encoding === 'quoted-printable') {
		bytes = bytes.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
	}
	return Buffer.from(bytes, 'latin1').toString('utf8');
}

function collectBodies(part: MimePart, into: { text: string; html: string }): void {
	const contentType = part.headers['content-type'] ?? 'text/plain';
	const boundaryMatch = /boundary="?([^";]+)"?/i.exec(contentType);
	if (/^multipart\//i.test(contentType) && boundaryMatch) {
		const boundary = `--${boundaryMatch[1]}`;
		for (const section of part.body.split(boundary).slice(1)) {
			if (section.startsWith('--')) break;
			collectBodies(splitHeadersAndBody(section.replace(/^\r\n/, '').replace(/\r\n$/, '')), into);
		}
		return;
	}
	const decoded = decodeBody(part).replace(/\r\n/g, '\n');
	if (/^text\/html/i.test(contentType)) into.html ||= decoded;
	else if (/^text\//i.test(contentType)) into.text ||= decoded;
}

function parseMessage(rawBytes: string): Omit<CapturedMail, 'envelopeFrom' | 'envelopeTo' | 'authUser' | 'raw'> {
	const root = splitHeadersAndBody(rawBytes);
	const bodies = { text: '', html: '' };
	collectBodies(root, bodies);
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(root.headers)) {
		headers[name] = decodeEncodedWords(Buffer.from(value, 'latin1').toString('utf8'));
	}
	return {
		from: headers.from ?? '',
		to: headers.to ?? '',
		subject: headers.subject ?? '',
		text: bodies.text.replace(/\n$/, ''),
		html: bodies.html,
		headers,
	};
}
