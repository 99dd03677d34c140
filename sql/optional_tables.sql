-- Tables another stage may not produce yet. When its frame is given, the table is created from
-- the frame with all its columns; otherwise it is created empty here, with the columns the
-- metrics and the report rely on, so queries over it hold either way.

-- Pairs a clerk should decide (from resolution).
create table if not exists review_queue (
    source_l            varchar,
    source_record_id_l  varchar,
    source_r            varchar,
    source_record_id_r  varchar,
    reason              varchar
);

-- Person ids that records moved between, run by run: merges and splits (each run adds its own
-- to the earlier runs' rows the previous published version carried).
create table if not exists person_id_history (
    run            varchar,
    old_person_id  varchar,
    new_person_id  varchar,
    kind           varchar,                   -- merge / split
    records        bigint
);
