import { createHmac } from 'node:crypto';

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** An HS256 JWT like Supabase's legacy API keys (`role` claim read by PostgREST). */
export function signSupabaseKey(role: string, secret: string, lifetimeSeconds = 10 * 365 * 24 * 3600): string {
	const now = Math.floor(Date.now() / 1000);
	const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
	const payload = base64url(JSON.stringify({ iss: 'supabase', ref: 'local', role, iat: now, exp: now + lifetimeSeconds }));
	const signature = base64url(createHmac('sha256', secret).update(`${header}.${payload}`).digest());
	return `${header}.${payload}.${signature}`;
}
