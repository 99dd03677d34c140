-- This run's data-quality metrics, per source, per ward and overall ('all').
-- One row per row judged: each row of a readable file not superseded by a later extract (the
-- latest of its record, or an earlier version held), and each row of a file rejected whole
-- (`extract_file.rows`: none where the file could not be read at all). Rows superseded by a later
-- extract are not judged; the report counts them beside. What each dimension asks of a row:
--   correct   not quarantined and no correctness rule broken, of rows judged (`rows_delivered`)
--   complete  no completeness rule broken (required field or id missing), of rows accepted
--   clean     not waiting for a clerk and not sharing its national id with another person,
--             of person records (dan_cu, bhxh, y_te)
--   live      event parties linked to a person, of parties named (khai_sinh, khai_tu, ket_hon);
--             a refused registration (quarantined, or in a file rejected whole) names the parties
--             its event type always names, none of them linked: a death that was refused is a
--             death the register does not know. One whose earlier version is held is known, and
--             counts through that version. And days from the newest extract to the run.
-- A share whose denominator is zero (live for a person source) is not recorded.
insert into dq_metric
with flag as (
    select f.file_name, f.row_number,
           bool_or(r.dimension = 'correct') as breaks_correct,
           bool_or(r.dimension = 'complete') as breaks_complete
    from record_flag f join rule r using (rule_id)
    group by all
), review as (
    select source_l as source, source_record_id_l as source_record_id from review_queue
    union
    select source_r, source_record_id_r from review_queue
), shared_id as (
    select national_id from person
    where national_id is not null
    group by national_id having count(*) > 1
), party as (
    select event_id, count(*) as parties, count(person_id) as linked
    from event_party group by event_id
), named(source, parties) as (
    -- The parties every registration names (dancu.contract's events; a father nobody named is
    -- no party): what a refused one leaves unknown.
    values ('khai_sinh', 2), ('khai_tu', 1), ('ket_hon', 2)
), event_ward as (
    -- The registering ward as a current ward, as a person's ward is settled from its code: a
    -- registration made before the reform carries an old code, one made since a current code
    -- (or an old one, which no current ward has); almost every current code is also the old
    -- code of another ward.
    -- `ward_conversion` is dancu.admin_units'; $reform_date is dancu.contract.REFORM_DATE.
    select e.event_id,
           case when coalesce(e.registration_date, e.extract_date) >= $reform_date::date
                     and e.registration_place_code in (select ward_code from ward_conversion)
                then e.registration_place_code
                else coalesce(c.ward_code, e.registration_place_code)
           end as ward_code
    from civil_event e
    left join ward_conversion c on c.old_ward_code = e.registration_place_code
), refused as (
    -- A file rejected whole counts its rows and has no extract date: it delivered nothing.
    select q.source, q.file_name, q.row_number, q.extract_date, 1 as rows,
           if(e.source_record_id is null, coalesce(n.parties, 0), 0) as parties
    from quarantine q
    left join named n using (source)
    left join (select distinct source, source_record_id from civil_event) e
        using (source, source_record_id)
    where q.row_number is not null
    union all
    select f.source, f.file_name, null, null, f.rows, f.rows * coalesce(n.parties, 0)
    from extract_file f left join named n using (source)
    where f.error is not null
), delivered as (
    select s.source, p.residence_ward_code as ward_code, s.file_name, s.row_number,
           s.extract_date, 1 as rows, false as quarantined, s.person_id,
           s.person_id is not null and (r.source is not null or x.national_id is not null)
               as unresolved,
           0 as parties, 0 as linked
    from person_source s
    left join person p using (person_id)
    left join review r using (source, source_record_id)
    left join shared_id x on x.national_id = p.national_id
    union all
    select e.source, w.ward_code, e.file_name, e.row_number, e.extract_date, 1,
           false, null, false, coalesce(pt.parties, 0), coalesce(pt.linked, 0)
    from civil_event e join event_ward w using (event_id) left join party pt using (event_id)
    union all
    select source, null, file_name, row_number, extract_date, rows, true, null, false, parties, 0
    from refused
), scored as (
    select d.* exclude (ward_code), coalesce(d.ward_code, 'unknown') as ward,
           not d.quarantined and coalesce(f.breaks_correct, false) as flagged_correct,
           not d.quarantined and coalesce(f.breaks_complete, false) as flagged_complete
    from delivered d left join flag f using (file_name, row_number)
), grouped as (
    select
        if(grouping(source) = 1, 'all', source) as source,
        if(grouping(ward) = 1, 'all', ward) as ward_code,
        sum(rows)::double as rows_delivered,
        coalesce(sum(rows) filter (quarantined), 0)::double as rows_quarantined,
        count(*) filter (not quarantined)::double as rows_accepted,
        count(*) filter (flagged_correct)::double as rows_flagged_correct,
        count(*) filter (flagged_complete)::double as rows_flagged_complete,
        count(person_id)::double as person_records,
        count(distinct person_id)::double as persons,
        count(*) filter (unresolved)::double as person_records_unresolved,
        sum(parties)::double as parties,
        sum(linked)::double as parties_linked,
        -- $as_of: the day deliveries are judged on (dancu.contract.as_of), as the report says.
        date_diff('day', max(extract_date), $as_of::date)::double as days_since_extract
    from scored
    group by grouping sets ((source), (ward), ())
), shares as (
    select *,
        (rows_delivered - rows_quarantined - rows_flagged_correct)
            / nullif(rows_delivered, 0) as correct_share,
        (rows_accepted - rows_flagged_complete) / nullif(rows_accepted, 0) as complete_share,
        (person_records - person_records_unresolved) / nullif(person_records, 0) as clean_share,
        parties_linked / nullif(parties, 0) as live_share
    from grouped
), long as (
    unpivot shares on columns(* exclude (source, ward_code)) into name metric value value
)
select $run_id, $run_time, l.source, l.ward_code, m.dimension, l.metric, l.value
from long l
join (values
    ('rows_delivered', 'correct'), ('rows_quarantined', 'correct'),
    ('rows_flagged_correct', 'correct'), ('correct_share', 'correct'),
    ('rows_accepted', 'complete'), ('rows_flagged_complete', 'complete'),
    ('complete_share', 'complete'),
    ('person_records', 'clean'), ('persons', 'clean'), ('person_records_unresolved', 'clean'),
    ('clean_share', 'clean'),
    ('parties', 'live'), ('parties_linked', 'live'), ('live_share', 'live'),
    ('days_since_extract', 'live')
) m(metric, dimension) using (metric);
