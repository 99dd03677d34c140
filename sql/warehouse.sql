-- The published warehouse: the tables of the extract contract, and what auditors need beside them.

create table person (
    person_id           varchar primary key,  -- stable across runs
    national_id         varchar,              -- 12-digit personal id, when known
    full_name           varchar,
    birth_date          date,                 -- null when only the year is known
    birth_year          integer,
    sex                 varchar,              -- M / F
    residence_ward_code varchar,              -- 5-digit ward code of residence
    address             varchar,
    phone               varchar,
    is_deceased         boolean not null,
    death_date          date,
    primary_source      varchar not null,     -- the source that supplied most fields
    record_count        integer not null      -- source records resolved into this person
);

create table person_source (
    source            varchar not null,       -- dan_cu, bhxh, y_te
    source_record_id  varchar not null,
    person_id         varchar not null,
    match_rule        varchar not null,       -- how the record joined its person
    file_name         varchar not null,
    row_number        bigint not null,
    extract_date      date not null,
    primary key (source, source_record_id)
);

create table civil_event (
    event_id                varchar primary key,
    event_type              varchar not null, -- birth, death, marriage
    source                  varchar not null,
    source_record_id        varchar not null,
    event_date              date,
    registration_date       date,
    registration_place_code varchar,
    file_name               varchar not null,
    row_number              bigint not null,
    extract_date            date not null
);

create table event_party (
    event_id          varchar not null,
    role              varchar not null,       -- child, mother, father, deceased, husband, wife
    person_id         varchar,                -- null where no person could be matched
    match_rule        varchar,
    unmatched_reason  varchar,
    primary key (event_id, role)
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
    file_name     varchar primary key,
    extract_date  date,
    rows          bigint not null,            -- data rows delivered
    rows_latest   bigint not null,            -- rows not superseded by a later extract
    error         varchar                     -- why the file was rejected whole, if it was
);

create index person_national_id on person (national_id);
create index person_source_person on person_source (person_id);
create index event_party_person on event_party (person_id);
