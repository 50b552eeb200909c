/**
 * n8n-core reads its settings folder and log settings when first used: point them at a private
 * temporary folder before anything imports n8n-core (import this module first).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'sprinthub-node-test-'));
process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS ??= 'false';
process.env.N8N_LOG_LEVEL ??= 'debug';
