-- sync_run_pages only matters while a run is going (it makes a retried page count once); when the
-- run's log row leaves 'running', its page keys are deleted so the table does not grow forever.
-- Re-runnable.

create or replace function public.sync_forget_run_pages()
returns trigger
language plpgsql volatile
security invoker
set search_path = public, pg_temp
as $$
begin
	delete from sync_run_pages p where p.run_id = new.run_id;
	return new;
end;
$$;

drop trigger if exists sync_segments_logs_forget_pages on public.sync_segments_logs;
create trigger sync_segments_logs_forget_pages
	after update of status on public.sync_segments_logs
	for each row
	when (old.status = 'running' and new.status <> 'running')
	execute function public.sync_forget_run_pages();

revoke execute on function public.sync_forget_run_pages() from public, anon, authenticated;
grant execute on function public.sync_forget_run_pages() to service_role;

notify pgrst, 'reload schema';
