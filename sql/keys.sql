-- The keys and indexes of the warehouse tables (warehouse.sql), one section per table, each
-- built as soon as its table's rows are loaded: DuckDB builds an index over a loaded table
-- several times faster than row by row as rows arrive, and one table's index builds while the
-- next table loads (at a million persons the load takes 10 s instead of 16). A table whose keys
-- would not fit in DuckDB's memory is loaded in the order of its first key instead, a slice at
-- a time (`warehouse.load_tables`); that key's statement ends with its column list.

-- name: person
alter table person add primary key (person_id);
-- Lookups by national id in the register (services compare digests instead, see views.sql).
create index person_national_id on person (national_id);

-- name: person_source
-- No declared key (see warehouse.sql); a person's records by person id.
create index person_source_person on person_source (person_id);

-- name: civil_event
alter table civil_event add primary key (event_id);
create index civil_event_record on civil_event (file_name, row_number);

-- name: event_party
alter table event_party add primary key (event_id, role);
create index event_party_person on event_party (person_id);

-- name: extract_file
alter table extract_file add primary key (file_name);

-- name: person_sensitive
alter table person_sensitive add primary key (person_id);

-- name: person_health
alter table person_health add primary key (person_id);

-- name: record_flag
alter table record_flag add primary key (file_name, row_number, rule_id);

-- name: rule
alter table rule add primary key (rule_id);

-- name: relationship
alter table relationship add primary key (person_id, related_person_id, relation);

-- name: publish_run
alter table publish_run add primary key (run_id);

-- name: dq_metric
-- Filled after the load (dq_metric.sql), read by metric over time.
alter table dq_metric add primary key (run_id, source, ward_code, metric);
create index dq_metric_series on dq_metric (metric, source, ward_code);

-- name: source_correction
-- One correction per record and field; each source reads its own.
alter table source_correction add primary key (source, source_record_id, field);

-- name: person_document
-- A person's documents by person; a document's holders by its number.
alter table person_document add primary key
    (person_id, document_type, document_number, source, source_record_id);
create index person_document_number on person_document (document_number);

-- name: person_nationality
alter table person_nationality add primary key (person_id, nationality);

-- name: foreign_party
alter table foreign_party add primary key (event_id, role, nationality);

-- name: student
alter table student add primary key (source_record_id);

-- name: justice_request
alter table justice_request add primary key (source_record_id);

-- name: match_status
alter table match_status add primary key (match_status);

-- name: record_match
alter table record_match add primary key (source, source_record_id);
create index record_match_person on record_match (person_id);

-- name: record_candidate
alter table record_candidate add primary key (source, source_record_id, person_id);
create index record_candidate_person on record_candidate (person_id);

-- name: correction_review
alter table correction_review add primary key (source, source_record_id, field);
