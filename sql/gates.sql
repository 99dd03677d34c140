-- Gate checks run against a newly built warehouse before it replaces the published one.
-- Each query returns one row per violation; an empty result passes.

-- name: nothing_lost
-- Every latest input row is in exactly one of person_source, civil_event or quarantine,
-- and so is every earlier row held for a record whose latest delivery was quarantined;
-- every rejected file is one quarantine row. A file outside the landing layout is a
-- rejected file under the source it belongs to, or '(no source)' in both tables.
with delivered as (
    select source, sum(rows_latest + rows_held) + count(*) filter (where error is not null) as n
    from extract_file group by source
), landed as (
    select source, count(*) as n from (
        select source from person_source
        union all select source from civil_event
        union all select source from quarantine
    ) group by source
)
select coalesce(d.source, l.source) as source, d.n as delivered, l.n as landed
from delivered d full join landed l using (source)
where coalesce(d.n, 0) <> coalesce(l.n, 0);

-- name: one_place_per_row
-- No input row is published twice or both published and quarantined.
select file_name, row_number, count(*) as places from (
    select file_name, row_number from person_source
    union all select file_name, row_number from civil_event
    union all select file_name, row_number from quarantine where row_number is not null
) group by file_name, row_number having count(*) > 1;

-- name: person_source_keys_unique
-- A record belongs to one person.
select source, source_record_id from person_source
group by source, source_record_id having count(*) > 1;

-- name: parties_reference_events
-- Every party belongs to a published event.
select p.event_id from event_party p anti join civil_event e using (event_id);

-- name: records_reference_persons
-- Every record belongs to a published person; only a student or request may match none.
select s.person_id from person_source s anti join person p using (person_id)
where s.person_id is not null or s.source not in ('giao_duc', 'ly_lich_tu_phap');

-- name: one_run_per_version
-- A version names exactly the run that built it; readers rely on it to know what they see.
select count(*) as runs from publish_run having count(*) <> 1;

-- name: sensitive_data_references_persons
-- Sensitive and health data belong to published persons.
select person_id from person_sensitive anti join person using (person_id)
union all
select person_id from person_health anti join person using (person_id);

-- name: dq_metric_recorded
-- This run's metrics are in the history, and every share is a share.
select 'missing' as problem where not exists (
    select 1 from dq_metric join publish_run using (run_id)
)
union all
select metric from dq_metric where metric like '%_share' and value not between 0 and 1;

-- name: criminal_data_only_for_justice
-- Criminal data (Án tích) reaches no view but svc_justice: no other view has a column of it.
select table_name, column_name from information_schema.columns
where table_catalog = current_database()
  and column_name = 'criminal_record'
  and table_name not in ('justice_request', 'svc_justice');

-- name: student_and_request_records_have_a_status
-- Every accepted student and judicial-record request has its match status, and a matched one
-- its person.
select s.source, s.source_record_id
from person_source s anti join record_match m using (source, source_record_id)
where s.source in ('giao_duc', 'ly_lich_tu_phap')
union all
select source, source_record_id from record_match
where (match_status = 'matched') <> (person_id is not null);
