type SprintHubSegmentSyncMap = {
	segment: 'add' | 'getLeads' | 'getMany' | 'pause' | 'reschedule' | 'resume' | 'runNow' | 'sync' | 'syncDue';
	lead: 'checkWebhook' | 'get' | 'upsert';
	syncHealth: 'check' | 'report';
	account: 'setRate';
};

export type SprintHubSegmentSyncType = {
	[R in keyof SprintHubSegmentSyncMap]: { resource: R; operation: SprintHubSegmentSyncMap[R] };
}[keyof SprintHubSegmentSyncMap];
