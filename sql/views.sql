-- What each consumer may read. A view exposes only the columns its service needs; the README
-- ("Published views") documents each one and a test holds the two together.
-- Sensitive columns: ethnicity (insurance, education), religion (no service), health (health).

-- A service that only checks a presented national id compares digests, never reads the id.
-- A digest is an HMAC keyed with the installation's secret (computed at publish, the key is in
-- no file here): the id space is small, so an unkeyed digest would give every id back to whoever
-- tries them all. A masked id would give part of it away too: no view shows one beside a digest.
-- Services ask `POST /v1/verify` of `dancu serve` to check an id.

-- Health facilities: recognise a patient, their insurance card and whether they are alive.
create view svc_health as
select
    p.person_id,
    p.national_id_digest,
    p.full_name,
    p.birth_date,
    p.birth_year,
    p.sex,
    p.residence_ward_code,
    h.health_card,
    h.last_visit_date,
    p.is_deceased,
    p.death_date
from person p
left join person_health h using (person_id);

-- Social insurance: pay contributions and benefits to the right living person; ethnicity for
-- the state-paid health cards of ethnic minorities.
create view svc_insurance as
with codes as (
    select person_id, min(source_record_id) as bhxh_code
    from person_source where source = 'bhxh' group by person_id
)
select
    p.person_id,
    c.bhxh_code,
    p.national_id,
    p.full_name,
    p.birth_date,
    p.birth_year,
    p.sex,
    s.ethnicity,
    p.residence_ward_code,
    p.address,
    p.phone,
    p.is_deceased,
    p.death_date
from person p
left join codes c using (person_id)
left join person_sensitive s using (person_id);

-- Schools: living children and young adults (born in the last 25 years) by ward of residence,
-- their parents from birth registrations, ethnicity for the support of ethnic-minority pupils.
create view svc_education as
with parents as (
    select
        child.person_id,
        any_value(mother.person_id) as mother_person_id,
        any_value(father.person_id) as father_person_id
    from event_party child
    left join event_party mother on mother.event_id = child.event_id and mother.role = 'mother'
    left join event_party father on father.event_id = child.event_id and father.role = 'father'
    where child.role = 'child' and child.person_id is not null
    group by child.person_id
)
select
    p.person_id,
    p.national_id_digest,
    p.full_name,
    p.birth_date,
    p.birth_year,
    p.sex,
    s.ethnicity,
    p.residence_ward_code,
    r.mother_person_id,
    r.father_person_id
from person p
left join person_sensitive s using (person_id)
left join parents r using (person_id)
where not p.is_deceased and p.birth_year >= year(current_date) - 25;

-- Civil-status registrars (justice): each registered birth, death and marriage, each party and
-- the person it was linked to, or why none.
create view svc_civil_status as
select
    e.event_id,
    e.event_type,
    e.event_date,
    e.registration_date,
    e.registration_place_code,
    e.duplicate_of,
    ep.role,
    ep.person_id,
    p.national_id,
    p.full_name,
    p.birth_date,
    ep.unmatched_reason
from civil_event e
join event_party ep using (event_id)
left join person p using (person_id);

-- Auditors: where every delivered row went, and the rules it broke; no names, no ids.
create view svc_audit as
with flags as (
    select file_name, row_number, list(rule_id order by rule_id) as rule_ids
    from record_flag group by all
)
select s.source, s.file_name, s.row_number, s.extract_date, 'person_record' as outcome,
       s.person_id, null as event_id, p.residence_ward_code as ward_code,
       coalesce(f.rule_ids, []) as rule_ids
from person_source s
join person p using (person_id)
left join flags f using (file_name, row_number)
union all
select e.source, e.file_name, e.row_number, e.extract_date, 'civil_event',
       null, e.event_id, e.registration_place_code, coalesce(f.rule_ids, [])
from civil_event e
left join flags f using (file_name, row_number)
union all
select q.source, q.file_name, q.row_number, q.extract_date, 'quarantine',
       null, null, null, list_transform(q.reasons, lambda r: regexp_extract(r, '^([\w.]+):', 1))
from quarantine q;
