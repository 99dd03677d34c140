-- What each consumer may read. A view exposes only the columns its service needs; the README
-- ("Published views") documents each one and a test holds the two together.
-- Sensitive columns: ethnicity (insurance, education), religion (no service), health (health);
-- criminal data (`justice_request.criminal_record`, Án tích) and identity documents and
-- nationalities (`person_document`, `person_nationality`): justice alone.

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
-- their parents from birth registrations, ethnicity for the support of ethnic-minority pupils;
-- and each student record of the schools (giao_duc) with its person, or, where it matched none
-- with confidence, its match status and why (dancu/match_status.py). A person without a student
-- record has one row with the student columns null; a student record without a person one row
-- with the person columns null; a student in two schools' files has a row for each.
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
), young as (
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
    where not p.is_deceased and p.birth_year >= year(current_date) - 25
), students as (
    select
        m.person_id,
        st.source_record_id as student_code,
        st.school_code,
        st.class_name,
        st.school_year,
        m.match_status,
        m.match_reason
    from student st
    join record_match m on m.source = 'giao_duc' and m.source_record_id = st.source_record_id
)
select
    coalesce(y.person_id, s.person_id) as person_id,
    y.national_id_digest,
    y.full_name,
    y.birth_date,
    y.birth_year,
    y.sex,
    y.ethnicity,
    y.residence_ward_code,
    y.mother_person_id,
    y.father_person_id,
    s.student_code,
    s.school_code,
    s.class_name,
    s.school_year,
    s.match_status,
    s.match_reason
from young y
full join students s on s.person_id = y.person_id;

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
left join person p using (person_id)
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

-- Justice (judicial records, Law on Judicial Records 2009): each request with its person, or
-- where resolution is unsure, one row per candidate person for a clerk (`is_candidate`); the
-- person's documents and nationalities; and `criminal_record` (Án tích), criminal data that no
-- other view holds. A request matched to nobody has one row without a person.
create view svc_justice as
with people as (
    select source_record_id, person_id, false as is_candidate, null::double as match_weight
    from record_match
    where source = 'ly_lich_tu_phap' and person_id is not null
    union all
    select source_record_id, person_id, true, match_weight
    from record_candidate
    where source = 'ly_lich_tu_phap'
), documents as (
    select person_id,
           list(struct_pack(document_type, document_number, issuing_country)
                order by document_type, document_number) as documents
    from (select distinct person_id, document_type, document_number, issuing_country
          from person_document
          where person_id in (select person_id from people))
    group by person_id
), nationalities as (
    select person_id, list(nationality order by nationality) as nationalities
    from person_nationality
    where person_id in (select person_id from people)
    group by person_id
)
select
    r.source_record_id as request_id,
    r.received_date,
    r.certificate_form,
    r.full_name,
    r.other_names,
    r.birth_date,
    r.birth_year,
    r.sex,
    r.birth_place,
    r.nationality,
    r.document_type,
    r.document_number,
    r.issuing_country,
    r.father_name,
    r.mother_name,
    r.spouse_name,
    r.criminal_record,
    r.has_criminal_record,
    m.match_status,
    m.match_reason,
    c.person_id,
    c.is_candidate,
    c.match_weight,
    p.national_id as person_national_id,
    p.full_name as person_full_name,
    p.birth_date as person_birth_date,
    p.sex as person_sex,
    p.is_deceased as person_is_deceased,
    d.documents as person_documents,
    n.nationalities as person_nationalities
from justice_request r
join record_match m on m.source = 'ly_lich_tu_phap' and m.source_record_id = r.source_record_id
left join people c on c.source_record_id = r.source_record_id
left join person p on p.person_id = c.person_id
left join documents d on d.person_id = c.person_id
left join nationalities n on n.person_id = c.person_id;
