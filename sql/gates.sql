-- Gate checks run against a newly built warehouse before it replaces the published one.
-- Each query returns one row per violation; an empty result passes.

-- name: nothing_lost
-- Every latest input row is in exactly one of person_source, civil_event or quarantine,
-- and every rejected file is one quarantine row.
with delivered as (
    select source, sum(rows_latest) + count(*) filter (where error is not null) as n
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

-- name: parties_reference_events
select p.event_id from event_party p anti join civil_event e using (event_id);

-- name: records_reference_persons
select s.person_id from person_source s anti join person p using (person_id);
