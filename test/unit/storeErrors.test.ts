import { toStoreError } from '../../engine/store/errors';

// A service role key with characters that change when URL-encoded, as a server may echo it.
const KEY = 'sb_secret_Ab+cD/eF=gH1';

describe('toStoreError', () => {
	it('keeps the Supabase key out of the message in every form the server may echo it, and still says what to fix', () => {
		const echoed = `JWT rejected: ${KEY} (${encodeURIComponent(KEY)}, ${KEY.toUpperCase()}); Authorization: Bearer ${KEY}`;
		const error = toStoreError('listControl', { message: echoed }, 401, [KEY]);
		expect(error.kind).toBe('auth');
		expect(error.message).toContain("use the project's service role key");
		expect(error.message.toLowerCase()).not.toContain(KEY.toLowerCase());
		expect(error.message).not.toContain(encodeURIComponent(KEY));
		expect(error.message).toContain('[REDACTED]');
	});
});
