import { startPostgres } from './postgres';

/**
 * One PostgreSQL server for the whole jest run: DATABASE_URL when set, otherwise an embedded one
 * whose URL the test workers inherit. Each test file's stack still gets its own database.
 */
export default async function globalSetup(): Promise<void> {
	if (process.env.DATABASE_URL) return;
	const server = await startPostgres();
	process.env.DATABASE_URL = server.adminUrl;
	(globalThis as { __sprinthubPostgres?: typeof server }).__sprinthubPostgres = server;
}
