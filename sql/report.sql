-- The auditor report's figures, read from a published warehouse. `$run_id` is the run the
-- warehouse was published by (publish_run). Each query follows a `-- name:` line.

-- name: run
select run_id, published_at from publish_run;

-- name: scorecard
-- The four dimensions per source and per ward ('all' is the total), with the row counts behind them.
select source, ward_code, metric, value
from dq_metric
where run_id = $run_id
  and metric in ('rows_delivered', 'rows_quarantined', 'correct_share', 'complete_share',
                 'clean_share', 'live_share')
order by source, ward_code, metric;

-- name: rows_received
-- What the landing files held, per source, so that their rows can be counted against the report:
-- every data row of the files delivered (`rows_in_files`) is superseded by a later extract of its
-- record (not judged), in a file rejected whole, or a row the scorecard judges (`rows_delivered`
-- of dq_metric, which the rows of files rejected whole are part of). A file that could not be
-- read at all has no rows to count.
select source,
       sum(rows) as rows_in_files,
       coalesce(sum(rows - rows_latest - rows_held) filter (where error is null), 0)
           as rows_superseded,
       coalesce(sum(rows) filter (where error is not null), 0) as rows_in_rejected_files,
       count(*) filter (where error is not null) as files_rejected
from extract_file
group by source
order by source;

-- name: trend
-- Each dimension's share over runs, per source and overall.
select run_time, run_id, source, dimension, value
from dq_metric
where ward_code = 'all' and metric = dimension || '_share'
order by dimension, source, run_time;

-- name: quarantine_reasons
-- Rule ids of rejected rows and files with their message, and the first rows that broke each
-- (masked by the report). A rule whose message names the cause (a file rejected for a missing
-- column, another for its content) has a line per cause, so examples stand beside their own.
with reason as (
    select source, file_name, row_number, source_record_id, unnest(reasons) as reason
    from quarantine
)
select
    regexp_extract(reason, '^([\w.]+):', 1) as rule_id,
    count(*) as rows,
    regexp_replace(reason, '^[\w.]+:\s*', '') as message,
    list(struct_pack(source, file_name, row_number, source_record_id)
         order by file_name, row_number)[1:3] as examples
from reason
group by rule_id, message
order by rows desc, rule_id, message;

-- name: consistency_rules
-- Advisory rules broken by accepted rows, per source.
select f.rule_id, r.dimension, r.message, f.source, count(*) as rows
from record_flag f
join rule r using (rule_id)
group by all
order by f.rule_id, f.source;

-- name: resolution
select
    (select count(*) from person_source) as person_records,
    (select count(*) from person) as persons,
    (select count(*) from person where record_count > 1) as persons_with_several_records,
    (select count(*) from (
        select national_id from person where national_id is not null
        group by national_id having count(*) > 1
    )) as national_ids_on_several_persons,
    (select count(*) from review_queue) as review_pairs,
    (select count(*) from person_id_history
     where kind = 'merge' and run = (select run_id from publish_run)) as merges,
    (select count(*) from person_id_history
     where kind = 'split' and run = (select run_id from publish_run)) as splits;

-- name: match_rules
select source, match_rule, count(*) as records
from person_source
group by all
order by source, records desc;

-- name: review_reasons
select reason, count(*) as pairs from review_queue group by all order by pairs desc, reason;

-- name: linkage
select e.event_type, p.role, count(*) as parties, count(p.person_id) as linked
from event_party p
join civil_event e using (event_id)
group by all
order by e.event_type, p.role;

-- name: unmatched
select e.event_type, p.unmatched_reason, count(*) as parties
from event_party p
join civil_event e using (event_id)
where p.person_id is null
group by all
order by parties desc;

-- name: life_status
select
    count(*) filter (where is_deceased) as deceased,
    count(*) filter (where is_deceased and death_date is null) as deceased_without_date,
    count(*) filter (where marital_status_source = 'ket_hon') as married_by_registration,
    count(*) filter (where marital_status_source = 'khai_tu') as widowed_by_registration,
    (select count(*) from event_party where match_rule = 'new_person') as persons_from_births,
    (select count(*) from civil_event where duplicate_of is not null) as events_registered_twice
from person;

-- name: changes
-- Each overall metric now and at the previous run in the history (null on a first run).
with runs as (
    select run_id, max(run_time) as run_time from dq_metric group by run_id
), previous as (
    select run_id from runs
    where run_time < (select run_time from runs where run_id = $run_id)
    order by run_time desc
    limit 1
)
select c.source, c.dimension, c.metric, p.value as previous, c.value as current,
       c.value - p.value as change
from dq_metric c
left join dq_metric p
    on p.run_id = (select run_id from previous)
    and p.source = c.source and p.ward_code = c.ward_code and p.metric = c.metric
where c.run_id = $run_id and c.ward_code = 'all'
order by c.dimension, c.metric, c.source;

-- name: corrections
-- Corrections sent back to each source, per field and kind, with the first records of each
-- (masked by the report).
select
    source,
    field,
    kind,
    count(*) as records,
    avg(confidence) as mean_confidence,  -- floored by the report: 0.99997 is not 100%
    list(struct_pack(source_record_id, delivered_value, register_value)
         order by source_record_id)[1:3] as examples
from source_correction
group by all
order by source, field, records desc, kind;

-- name: unmatched_students
-- Student records the register does not know with confidence, per school, ward of residence
-- and match status (dancu/match_status.py).
select s.school_code, coalesce(s.ward_code, 'unknown') as ward_code, m.match_status,
       count(*) as records
from record_match m
join student s on m.source = 'giao_duc' and s.source_record_id = m.source_record_id
where m.match_status <> 'matched'
group by all
order by records desc, s.school_code, ward_code, m.match_status;

-- name: requests_by_status
-- Judicial-record requests per match status.
select m.match_status, count(*) as requests
from record_match m
where m.source = 'ly_lich_tu_phap'
group by all
order by requests desc, m.match_status;

-- name: requests_with_conviction
-- How many requests name a conviction: a count, never the conviction (Án tích) itself.
select count(*) as requests, count(*) filter (where has_criminal_record) as with_conviction
from justice_request;

-- name: foreign_elements
-- Births and marriages with a foreign party, per event type and foreign nationality; a
-- registration made again counts once.
select e.event_type, f.nationality, count(distinct e.event_id) as events
from foreign_party f
join civil_event e using (event_id)
where e.duplicate_of is null
group by all
order by e.event_type, events desc, f.nationality;

-- name: correction_review
-- Differences from the register held back for clerks because the evidence is close, per
-- source, field and why.
select source, field, held_because, count(*) as records
from correction_review
group by all
order by source, field, held_because;
