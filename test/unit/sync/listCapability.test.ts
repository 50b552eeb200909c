import { compareListWithDetail, projectionOf } from '../../../engine/sync/listCapability';

describe('enrichment auto: a list record against the detail record', () => {
	const detail = { id: 7, firstname: 'Ana', owner: 12, cpf: '123', stage: null, updatedDate: '2026-11-30T10:00:00.000Z' };

	it('a list record with every field and the same values is complete (fields the detail left empty may be filled)', () => {
		expect(compareListWithDetail({ ...detail, stage: 'lead', fullname: 'Ana' }, detail)).toEqual({ missing: [], differing: [] });
	});

	it('a field the list leaves out is missing; a field it leaves empty or gives in another shape differs', () => {
		const { cpf: _cpf, ...withoutCpf } = detail;
		expect(compareListWithDetail(withoutCpf, detail)).toEqual({ missing: ['cpf'], differing: [] });
		expect(compareListWithDetail({ ...detail, firstname: '' }, detail).differing).toEqual(['firstname']);
		// Lists give the owner as {completName}; a detail call stores the user id (and the name as ownerName).
		expect(compareListWithDetail({ ...detail, owner: { completName: 'Bia' } }, detail).differing).toEqual(['owner', 'ownerName']);
	});

	it('the projection names every field once, with id and the change marker, and leaves out names a projection cannot carry', () => {
		expect(projectionOf(['firstname', 'cpf', 'id', 'bad-name', 'data_de_nascimento'])).toBe('{total,leads{id,updatedDate,firstname,cpf,data_de_nascimento}}');
	});
});
