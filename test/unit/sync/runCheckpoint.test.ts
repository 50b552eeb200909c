import { checkpointAfterPage, firstPass, nextWalk, readCheckpoint } from '../../../engine/sync/runCheckpoint';

describe('run checkpoints: where an unfinished run resumes', () => {
	it('stores the page after the one written, and a new walk starts at page 0 of the same pass', () => {
		const pass = { ...firstPass(1000, 'changed'), nextPage: 4, seen: 4000, total: 9000, limit: 1000 };
		expect(checkpointAfterPage(pass)).toEqual({ walk: 1, nextPage: 5, limit: 1000, seen: 4000, total: 9000, shifted: false, enrichment: 'changed' });
		expect(nextWalk({ ...pass, shifted: true })).toEqual({ walk: 2, nextPage: 0, limit: 1000, seen: 0, total: -1, shifted: false, enrichment: 'changed' });
	});

	it('reads back what it stored, fills what older checkpoints lack, and ignores what is not a checkpoint', () => {
		const stored = checkpointAfterPage({ ...firstPass(200, 'none'), nextPage: 2, seen: 600, total: 700, shifted: true });
		expect(readCheckpoint(stored)).toEqual({ walk: 1, nextPage: 3, limit: 200, seen: 600, total: 700, shifted: true, enrichment: 'none' });
		expect(readCheckpoint({ nextPage: 7, limit: 100 })).toEqual({ walk: 1, nextPage: 7, limit: 100, seen: 0, total: -1, shifted: false, enrichment: 'changed' });
		expect(readCheckpoint(null)).toBeNull();
		expect(readCheckpoint({ nextPage: '7', limit: 100 })).toBeNull();
		expect(readCheckpoint({ nextPage: 7, limit: 0 })).toBeNull();
	});
});
