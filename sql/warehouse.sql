-- The published warehouse: the tables of the extract contract, and what auditors need beside them.
-- Their keys and indexes are in keys.sql, built once their rows are loaded.

create table person (
    person_id           varchar not null,     -- stable across runs
    national_id         varchar,              -- 12-digit personal id, when known
    national_id_digest  varchar,              -- HMAC-SHA256 of it with the installation's key
    full_name           varchar,
    birth_date          date,                 -- null when only the year is known
    birth_year          integer,
    sex                 varchar,              -- M / F
    residence_ward_code varchar,              -- 5-digit ward code of residence
    address             varchar,
    phone               varchar,
    is_deceased         boolean not null,
    death_date          date,
    marital_status      varchar,              -- single, married, divorced, widowed
    marital_status_source varchar,            -- dan_cu, or ket_hon / khai_tu when a later
                                              -- registered marriage or spouse's death decides
    primary_source      varchar not null,     -- the source that supplied most fields
    record_count        integer not null      -- source records resolved into this person
);

-- Keyed by (source, source_record_id), which the gate `person_source_keys_unique` checks, and
-- stored in that order, so that looking a record up reads one row group. A declared key would
-- add about 2 s to the publish at a million persons (built after the load; 7 s row by row) to
-- guard a table no service writes.
create table person_source (
    source            varchar not null,       -- dan_cu, bhxh, y_te, giao_duc, ly_lich_tu_phap
    source_record_id  varchar not null,
    person_id         varchar,                -- null: a student or request that matched no
                                              -- one the register knows (record_match says why)
    match_rule        varchar not null,       -- how the record joined its person
    file_name         varchar not null,
    row_number        bigint not null,
    extract_date      date not null
);

create table civil_event (
    event_id                varchar not null,
    event_type              varchar not null, -- birth, death, marriage
    source                  varchar not null,
    source_record_id        varchar not null,
    event_date              date,
    registration_date       date,
    registration_place_code varchar,
    file_name               varchar not null,
    row_number              bigint not null,
    extract_date            date not null,
    duplicate_of            varchar          -- the first registration of the same event, if any
);

create table event_party (
    event_id          varchar not null,
    role              varchar not null,       -- child, mother, father, deceased, husband, wife
    person_id         varchar,                -- null where no person could be matched
    match_rule        varchar,                -- how resolution linked it; new_person for a child
                                              -- the register did not know yet
    match_weight      double,                 -- the link's match weight (log2 odds)
    unmatched_reason  varchar
);

create table quarantine (
    source            varchar not null,
    file_name         varchar not null,       -- relative to the landing folder
    row_number        bigint,                 -- data rows from 1; null for a file rejected whole
    source_record_id  varchar,
    extract_date      date,
    reasons           varchar[] not null,     -- "rule.id: message"
    raw               json                    -- the row as delivered, under its header labels
);

create table extract_file (
    source        varchar not null,
    file_name     varchar not null,
    extract_date  date,
    rows          bigint not null,            -- data rows delivered
    rows_latest   bigint not null,            -- rows not superseded by a later extract
    rows_held     bigint not null,            -- superseded rows still published: a record's last accepted version, its later delivery quarantined
    error         varchar,                    -- why the file was rejected whole, if it was
    title_rows    bigint,                     -- rows above the header (a title); row_number counts from the header
    sheets        varchar                     -- a workbook of several sheets: the rows each gave ("Lớp 1A: rows 1-35; ...")
);

-- Which run built this file. One row: a reader that sees it sees the tables of that run.
create table publish_run (
    run_id          varchar not null,
    published_at    timestamp not null,       -- UTC
    key_fingerprint varchar not null          -- of the key behind person ids and digests
);

-- Sensitive personal data (ethnicity, religion: Vietnamese law), kept apart from `person` so that
-- only the views of services that need them join it. From the person's latest dan_cu record.
create table person_sensitive (
    person_id         varchar not null,
    ethnicity         varchar,
    religion          varchar,
    source_record_id  varchar not null        -- the dan_cu record it came from
);

-- Health data (sensitive): the person's health-insurance card and latest visit, from y_te.
create table person_health (
    person_id        varchar not null,
    health_card      varchar,                 -- 15-character BHYT card number
    last_visit_date  date,
    patient_records  integer not null         -- y_te records resolved into this person
);

-- Every advisory rule an accepted row breaks (its `flags`), one row per rule.
create table record_flag (
    source        varchar not null,
    file_name     varchar not null,
    row_number    bigint not null,
    rule_id       varchar not null
);

-- The rules of checks/rules.py, and the quality dimension each one measures.
-- Hà Nội's current wards, and the old (pre-2025) wards each became (dancu.admin_units; a
-- divided old ward under its default successor): what turns an old code into today's ward.
create table ward_conversion (
    old_ward_code varchar,                    -- null on a current ward's own row
    ward_code     varchar not null
);

create table rule (
    rule_id    varchar not null,
    severity   varchar not null,              -- quarantine / flag
    dimension  varchar not null,              -- correct / complete / live
    message    varchar not null
);

-- Data-quality history: this run's metrics plus every earlier run's, carried forward from the
-- previous published version (sql/dq_metric.sql).
create table dq_metric (
    run_id     varchar not null,
    run_time   timestamp not null,            -- UTC
    source     varchar not null,              -- a source, or 'all'
    ward_code  varchar not null,              -- a ward code, 'unknown', or 'all'
    dimension  varchar not null,              -- correct, complete, clean, live
    metric     varchar not null,
    value      double not null
);

create table relationship (
    person_id          varchar not null,
    related_person_id  varchar not null,
    relation           varchar not null,     -- what the related person is: mother, father, child, spouse
    event_id           varchar not null      -- the registration it comes from
);

create table consistency_issue (
    rule       varchar not null,             -- life.activity_after_death, marriage.without_divorce, ...
    person_id  varchar not null,
    event_id   varchar                       -- the registration involved, if any
);

-- What each source is told to fix (dancu/corrections.py): a delivered personal id, birth date,
-- name or sex that the register, after resolution, shows to be wrong or missing. Sent only to a
-- source at least as far down the golden rule's order as the one the register value came from
-- (dan_cu > bhxh > y_te), and only from `confidence` 0.9; what was held back is counted in the
-- asset's metadata. Each run also writes one XLSX per source under reports/corrections/.
create table source_correction (
    source            varchar not null,       -- the source told: a person source
    source_record_id  varchar not null,       -- that source's own record id
    person_id         varchar not null,       -- the person the record was matched to
    field             varchar not null,       -- national_id, birth_date, full_name, sex
    delivered_value   varchar,                -- as standardised; null: delivered empty (dates
                                              -- yyyy-mm-dd, or yyyy when only the year is known)
    register_value    varchar not null,       -- the golden record's value, in the same form
    kind              varchar not null,       -- completion, digit_typo, day_month_swapped, ...
                                              -- (dancu.corrections.KINDS)
    confidence        double not null,        -- 0-1: the record is the person's, the register's
                                              -- value is the right one, its other fields agree
    register_source   varchar not null,       -- the source the register value came from
    file_name         varchar not null,       -- where the record was delivered
    row_number        bigint not null
);

-- Every identity document a person was seen with (dancu/publish.py `person_documents`), one row
-- per record showing it: an old CMND and a current CCCD, the id a re-issued one replaced, a
-- passport with its country, an identity certificate, a student code. Read by svc_justice.
create table person_document (
    person_id         varchar not null,
    document_type     varchar not null,       -- national_id, cmnd, passport,
                                              -- identity_certificate, student_code,
                                              -- previous_national_id
    document_number   varchar not null,       -- in the normal form of its type
    issuing_country   varchar,                -- ISO 3166-1 alpha-3; null: a passport whose
                                              -- country neither it nor its holder names
    source            varchar not null,       -- the record that shows it
    source_record_id  varchar not null        -- for a party of an event, the registration's
);

-- Each nationality a record of the person names: a dual national has two rows.
create table person_nationality (
    person_id    varchar not null,
    nationality  varchar not null,            -- ISO 3166-1 alpha-3 (XXA stateless, XXX
                                              -- undetermined: dancu/nationality.py)
    sources      varchar[] not null           -- the sources that name it
);

-- Each foreign nationality of a party of a birth or marriage registration (a foreign element).
create table foreign_party (
    event_id     varchar not null,
    role         varchar not null,            -- child, mother, father, husband, wife
    nationality  varchar not null             -- ISO 3166-1 alpha-3, other than VNM
);

-- What the education service needs of each accepted student record (giao_duc).
create table student (
    source_record_id  varchar not null,       -- the sector's student code (Mã học sinh)
    school_code       varchar,
    class_name        varchar,
    school_year       varchar,                -- 2025-2026
    ward_code         varchar,                -- ward of residence, current unit
    file_name         varchar not null,
    row_number        bigint not null,
    extract_date      date not null
);

-- Each accepted judicial-record request (ly_lich_tu_phap), as standardised. CRIMINAL DATA
-- (Decree 13/2023): `criminal_record` (Án tích) is read by svc_justice alone; every other
-- reader, the report included, may count `has_criminal_record` and nothing more.
create table justice_request (
    source_record_id     varchar not null,    -- Số hồ sơ
    received_date        date,
    certificate_form     varchar,             -- 1 or 2
    full_name            varchar,
    other_names          varchar,
    birth_date           date,
    birth_year           integer,
    sex                  varchar,
    birth_place          varchar,
    nationality          varchar[],           -- ISO 3166-1 alpha-3
    document_type        varchar,
    document_number      varchar,
    issuing_country      varchar,
    address              varchar,
    ward_code            varchar,
    father_name          varchar,
    mother_name          varchar,
    spouse_name          varchar,
    criminal_record      varchar,             -- Án tích: convictions; null or empty: none
    has_criminal_record  boolean,
    file_name            varchar not null,
    row_number           bigint not null,
    extract_date         date not null
);

-- The match statuses of student and request records, and what each means
-- (dancu/match_status.py MATCH_STATUSES).
create table match_status (
    match_status  varchar not null,
    meaning       varchar not null
);

-- Each accepted giao_duc and ly_lich_tu_phap record: its person where resolution matched it
-- with confidence to a person the register knows, else its status and why.
create table record_match (
    source            varchar not null,
    source_record_id  varchar not null,
    person_id         varchar,                -- null unless match_status is 'matched'
    match_status      varchar not null,       -- a match_status of the table above
    match_reason      varchar not null,       -- its meaning
    candidates        integer not null        -- persons a clerk may choose between
);

-- The persons a clerk may choose between for a record that is not matched: the other side of
-- its pairs in the review queue, strongest first.
create table record_candidate (
    source            varchar not null,
    source_record_id  varchar not null,
    person_id         varchar not null,
    match_weight      double                  -- the pair's match weight (log2 odds)
);

-- Differences from the register that dancu/corrections.py held back because the evidence is
-- close (`uncertain`: one witness against another; `register_doubtful`: the values against
-- the register's weigh more): not sent to the source, for a clerk to settle.
create table correction_review (
    source            varchar not null,
    source_record_id  varchar not null,
    person_id         varchar not null,
    field             varchar not null,       -- national_id, birth_date, full_name, sex
    delivered_value   varchar,
    register_value    varchar,
    kind              varchar not null,
    confidence        double not null,
    register_source   varchar,
    file_name         varchar not null,
    row_number        bigint not null,
    held_because      varchar not null        -- uncertain, register_doubtful
);
