import { schemaNameProblem, toStoreError } from '../../engine/store';
import { alertsOf, DEFAULT_THRESHOLDS, thresholdsFrom } from '../../engine/report/alerts';
import type { SegmentHealth } from '../../engine/store/types';
import { parseCommandLine } from '../../cli/commandLine';
import { lastResortLine } from '../../cli/lastResort';

describe('schema names', () => {
	test('plain identifiers pass; anything PostgREST would not find, or Postgres would cut, is refused', () => {
		for (const name of ['public', 'sync_v2', '_private', 'CRM$data', 'x'.repeat(63)]) expect({ name, problem: schemaNameProblem(name) }).toEqual({ name, problem: null });
		for (const name of ['', 'sync data', '1st', 'public;drop', 'sync-v2', '"quoted"', 'x'.repeat(64)]) {
			expect({ name, problem: schemaNameProblem(name) }).toEqual({ name, problem: expect.stringMatching(/is not a schema name: .*e\.g\. public\.$/) });
		}
	});
});

describe('health thresholds', () => {
	const slowRun = { status: 'active', health: 'ok', consecutive_failures: 0, last_duration_seconds: 3600, recent_success_rate: 100, recent_runs: 5 } as unknown as SegmentHealth;

	test('a threshold that is not a number is refused, naming it, instead of becoming NaN (which silenced the alert)', () => {
		expect(alertsOf(slowRun, { ...DEFAULT_THRESHOLDS, maxRunMinutes: Number('ten') })).toEqual([]); // the hole: NaN compares false
		expect(thresholdsFrom({ maxRunMinutes: 'ten' })).toEqual({ field: 'maxRunMinutes', message: 'Max Run Minutes must be a number from 0 to 10080, got "ten"' });
		expect(thresholdsFrom({ minSuccessRate: 101 })).toMatchObject({ field: 'minSuccessRate' });
		expect(thresholdsFrom({ maxConsecutiveFailures: 1.5 })).toMatchObject({ field: 'maxConsecutiveFailures' });
		expect(thresholdsFrom({ staleAfterHours: Infinity })).toMatchObject({ field: 'staleAfterHours' });
	});

	test('empty values take the defaults; numbers as text are read', () => {
		expect(thresholdsFrom({ maxRunMinutes: '', minSuccessRate: undefined, staleAfterHours: null })).toEqual({ thresholds: DEFAULT_THRESHOLDS });
		const checked = thresholdsFrom({ maxRunMinutes: ' 15 ' });
		expect(checked).toEqual({ thresholds: { ...DEFAULT_THRESHOLDS, maxRunMinutes: 15 } });
		expect(alertsOf(slowRun, (checked as { thresholds: typeof DEFAULT_THRESHOLDS }).thresholds)).toEqual(['slow']);
	});
});

describe('database refusals', () => {
	test('a hint written for people joins the message; a SYNC_* code does not', () => {
		const human = toStoreError('rescheduleSegment', { code: '22023', message: "the schedule '1 microsecond' runs more often than once a minute", hint: 'The shortest schedule is 1 minute.' }, 400);
		expect(human).toMatchObject({ kind: 'invalid_argument', message: "rescheduleSegment: the schedule '1 microsecond' runs more often than once a minute. The shortest schedule is 1 minute." });
		const coded = toStoreError('setAccountRate', { code: '22023', message: 'requests per minute must be from 1 to 1000000, got 0', hint: 'SYNC_BAD_RATE' }, 400);
		expect(coded.message).toBe('setAccountRate: requests per minute must be from 1 to 1000000, got 0');
	});
});

describe('command line', () => {
	test('a lone - is a value (standard input), another dash word is not', () => {
		const options = { 'token-file': { type: 'string' }, json: { type: 'boolean' } } as const;
		expect(parseCommandLine(['status', '--token-file', '-'], options).flags).toEqual({ 'token-file': '-' });
		expect(() => parseCommandLine(['status', '--token-file', '--json'], options)).toThrow('--token-file needs a value, but "--json" follows it');
	});

	test('the last-resort line removes a token typed as a flag and a key from the environment', () => {
		const token = '123e4567-e89b-42d3-a456-426614174000';
		const key = 'sb_secret_abcdefghijklmnopqrstuvwxyz';
		const line = lastResortLine(new Error(`failed with ${token} and ${key}\n    at somewhere`), ['sync', '1', `--token=${token}`], { SUPABASE_SERVICE_ROLE_KEY: key });
		expect(line).toBe('sprinthub-sync: unexpected error: failed with [REDACTED] and [REDACTED]\n');
	});
});
