/** The --help texts, one per command. */

const CONNECTION = `Connection (flags win over the environment, which wins over ./.env):
  --sprinthub-url URL   SPRINTHUB_BASE_URL or VITE_SPRINTHUB_BASE_URL (default https://sprinthub-api-master.sprinthub.app)
  --instance NAME       SPRINTHUB_INSTANCE or VITE_SPRINTHUB_INSTANCE (the account subdomain, e.g. acme)
  --token-file FILE     SPRINTHUB_API_TOKEN or VITE_SPRINTHUB_API_TOKEN, read from FILE (- for standard input)
  --supabase-url URL    SUPABASE_URL or VITE_SUPABASE_URL (the project URL, e.g. https://abcd.supabase.co)
  --supabase-key-file FILE
                        SUPABASE_SERVICE_ROLE_KEY (service role / secret key), read from FILE (- for standard
                        input); VITE_SUPABASE_SERVICE_ROLE_KEY works but is warned about: bundlers put every
                        VITE_* variable into browser code
  --schema NAME         schema of the sync tables (default public; SPRINTHUB_SYNC_SCHEMA)
  --env-file PATH       read this file instead of ./.env
  --token TOKEN, --supabase-key KEY
                        work too, but a secret typed as a flag shows in ps and in the shell's history: keep
                        the token and the key in the environment or in .env (chmod 600), or give them a file`;

const RUN_OPTIONS = `Run options (as in the n8n node):
  --enrichment MODE     auto (default: list records when the account's lists carry every field, else as changed)
                        | changed (details only for new or changed leads) | all | none (list fields only)
  --full-refresh        fetch every lead's details this run
  --dry-run             read everything, write nothing, report what would change
  --rate N              SprintHub requests per minute for this run; can only lower the account's
                        rate (sprinthub-sync account rate N), shared by every process (default:
                        the account's rate, or 80 while none is set)
  --patience SECONDS    how long to wait out throttling before stopping rate_limited (default 600)
  --db-patience SECONDS how long each database call retries the database's bad minutes (default 120)
  --concurrency N       detail calls in flight at once (default 4)
  --batch-size N        leads per database write (default 500)
  --page-size N         leads asked per list page (default 1000)
  --parallel N          segments synced at once, sharing the rate budget (default 2)
  --json                print the run summary as JSON on stdout
  --progress MODE       auto (bar on a terminal, lines otherwise) | bar | lines | none`;

const EXIT_CODES = `Exit codes: 0 success, 1 failure, 2 bad usage or configuration, 3 partial or rate limited,
130 cancelled (Ctrl-C: the run is checkpointed and the next run resumes there).`;

export const HELP: Record<string, string> = {
	main: `sprinthub-sync: keeps the leads of SprintHub segments in a Supabase database (the same engine as the n8n node).

Usage: sprinthub-sync <command> [options]

Commands:
  sync <segmentId…>                  sync these segments now
  sync-due                           sync the segments whose schedule is due (for cron)
  status                             the health of every segment (view sync_segments_health)
  report --html FILE | --json        the sync health dashboard: cards and charts per segment
  segments list                      registered segments, with what SprintHub says about them
  segments add <segmentId…>          register segments (sync_segments_control)
  segments pause|resume <segmentId…> stop or restart scheduled syncs
  segments reschedule <id> <schedule> change a schedule ('0 6 * * *' or '6 hours')
  leads get <leadId>                 one lead as SprintHub returns it (every field)
  prune                              delete run logs, resolved quarantine and left memberships past retention
  account show                       the account's shared rate budget (every process together)
  account rate <N|unset>             set the account's requests per minute (runs can only go lower)

Run "sprinthub-sync <command> --help" for a command's options.

${CONNECTION}

${EXIT_CODES}`,

	sync: `Usage: sprinthub-sync sync <segmentId…> [options]

Syncs the named segments now: pages through each one, fetches lead details only where needed and
writes page by page, with a checkpoint after each page. Segments must be registered first
(sprinthub-sync segments add <id>).

${RUN_OPTIONS}

${CONNECTION}

${EXIT_CODES}`,

	'sync-due': `Usage: sprinthub-sync sync-due [options]

Claims the segments whose next execution has come (as the n8n schedule does) and syncs them.
Safe to run from several machines at once: a segment being synced elsewhere is skipped.

  --max-segments N      most segments taken in this run (default 10)
${RUN_OPTIONS}

${CONNECTION}

${EXIT_CODES}`,

	status: `Usage: sprinthub-sync status [segmentId…] [--json]

The health of each registered segment (view sync_segments_health): ok, running, never_run, failing,
overdue, paused or error, with the last run, members and quarantined leads.

${CONNECTION}`,

	report: `Usage: sprinthub-sync report [segmentId…] --html FILE | --json [options]

The sync health dashboard, the same page the n8n workflow "SprintHub sync dashboard" serves: a card per
segment (health, last and next run, members, success rate, quarantined, the last error and what to do)
and charts of its runs (duration, leads seen / new / updated / left, detail calls and time throttled,
success rate, with the alert lines), plus SprintHub calls per hour against the budget. Reads the
database only (views sync_segments_health, sync_report_runs, sync_report_calls_hourly).

  --html FILE           write the page to FILE: one file, no script, loads nothing (open it offline, attach it to an e-mail)
  --json                print the figures behind the page on stdout
  --days N              days of runs in the charts (default 30, at most 366)
  --rate N              the account's SprintHub budget in requests per minute, drawn on the calls chart (default 80)

${CONNECTION}`,

	segments: `Usage: sprinthub-sync segments <list|add|pause|resume|reschedule> …

  segments list [--json]
      Registered segments (sync_segments_control). When SprintHub is configured, joined with SprintHub's
      segment list (name, lead count) and followed by the SprintHub segments that are not registered.
  segments add <segmentId…> [--schedule S] [--timezone TZ] [--enrichment MODE] [--full-refresh-days N] [--name NAME]
      Registers segments (or updates the given settings). When SprintHub is configured the segment must
      exist there and its name is taken from it. --full-refresh-days: fetch a lead's details again when
      they are older than N days, changed or not (default 30; 0: never).
  segments pause <segmentId…>      no scheduled syncs until resumed
  segments resume <segmentId…>     back to active (also clears status error)
  segments reschedule <segmentId> <schedule> [--timezone TZ]
      A schedule is a 5-field cron expression ('0 6 * * *') or an interval ('6 hours', '30 minutes'),
      at most once a minute.

${CONNECTION}`,

	prune: `Usage: sprinthub-sync prune [--json]

Deletes what is older than the project's retention settings (table sync_settings, set with SQL):
run logs (sync_segments_logs, default 90 days), resolved quarantine rows (default 30 days) and
memberships of leads that left a segment (kept unless left_membership_retention_days is set).
Never touches a running run's rows or a segment's latest run. Sync Due does this at most once a day;
this command does it now. Needs only the Supabase settings.

${CONNECTION}`,

	account: `Usage: sprinthub-sync account show [--json]
       sprinthub-sync account rate <requests per minute | unset> [--json]

Every process syncing into this database (n8n main, queue-mode workers, this command line) takes its
SprintHub calls from one budget per account, kept in the table sync_account_budgets. "account rate"
sets the account's requests per minute; a run's --rate or the node's Requests Per Minute can only
lower it. Unset, each run uses its own rate (default 80). The same from SQL:
  update sync_account_budgets set requests_per_minute = 540 where instance = 'acme';

${CONNECTION}`,

	leads: `Usage: sprinthub-sync leads get <leadId>

Prints the lead as SprintHub returns it with every field (GET /leads/{id}?allFields=1), as JSON.
Needs only the SprintHub settings.

${CONNECTION}`,
};
