"""Everything dancu runs, assembled in one place: assets, checks, jobs, schedules and resources."""

import dagster as dg

from assets.correct import source_correction
from assets.ingest import ingest_assets
from assets.link import link_events
from assets.publish import warehouse
from assets.report import auditor_report, correction_workbooks, review_queue_export
from assets.resolve import resolve_persons
from assets.standardize import std_assets
from assets.validate import quarantine
from checks.asset_checks import freshness_checks, source_asset_checks
from orchestration.resources import DancuPaths, StagingParquetIOManager
from pipelines.catalog import described, service_views
from pipelines.progress import progress_logger
from pipelines.sensors import landing_sensor_for

ALL_ASSETS = [
    *ingest_assets,
    *std_assets,
    quarantine,
    resolve_persons,
    link_events,
    source_correction,
    warehouse,
    auditor_report,
    review_queue_export,
    correction_workbooks,
]

refresh_register = dg.define_asset_job(
    "refresh_register",
    selection=dg.AssetSelection.all(),
    description="Read every extract in the landing folder and publish a new warehouse.",
    # polars already uses every core inside a step; a process per step would only add start-up.
    executor_def=dg.in_process_executor,
)

nightly_refresh = dg.ScheduleDefinition(
    name="nightly_refresh",
    job=refresh_register,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    description="Rebuild the register every night, after the sources' daily exports.",
)


def build_definitions() -> dg.Definitions:
    paths = DancuPaths.from_env()
    return dg.Definitions(
        assets=[*dg.map_asset_specs(described, ALL_ASSETS), *service_views()],
        asset_checks=[*source_asset_checks, *freshness_checks],
        jobs=[refresh_register],
        # A run holds the data folder's lock in its one process (`DancuPaths`); step processes
        # of one run would wait on each other.
        executor=dg.in_process_executor,
        schedules=[nightly_refresh],
        sensors=[landing_sensor_for(refresh_register)],
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
        resources={
            "paths": paths,
            "io_manager": StagingParquetIOManager(data_dir=paths.data_dir),
        },
    )


defs = build_definitions()


def refresh_register_job() -> dg.JobDefinition:
    """`refresh_register` resolved against `defs`, for `dg.reconstructable`: `dancu run` executes
    it with `dg.execute_job`, which, unlike `execute_in_process`, keeps no step's output in
    memory once the IO manager has written it (at a million persons, gigabytes)."""
    return defs.resolve_job_def(refresh_register.name)
