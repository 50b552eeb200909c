import type { PostgresServer } from './postgres';

export default async function globalTeardown(): Promise<void> {
	const server = (globalThis as { __sprinthubPostgres?: PostgresServer }).__sprinthubPostgres;
	if (server) {
		await server.stop();
		delete process.env.DATABASE_URL;
	}
}
