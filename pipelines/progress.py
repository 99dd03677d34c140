"""Compact progress for `dancu run` in a terminal: one line as each step starts and ends.

Dagster's own console log tells every engine event; a data engineer running the pipeline by
hand, or reading a night run's log, wants to see which step is working, how long each took, the
rows it wrote and the memory it held, how far the run is, and what went wrong.
"""

import logging
import sys
from datetime import datetime

import dagster as dg

from orchestration.resources import HELD_MEMORY, PEAK_MEMORY

STARTED, SUCCEEDED, FAILED = "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"
CHECK = "ASSET_CHECK_EVALUATION"
MATERIALIZED = "ASSET_MATERIALIZATION"
ROW_COUNT = "dagster/row_count"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _memory(mib: float) -> str:
    return f"{mib / 1024:.1f} GiB" if mib >= 1024 else f"{mib:.0f} MiB"


class _Step:
    """What the outputs of a running step told: rows written, and the step's peak memory."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.rows = 0
        self.peak_mib = 0.0
        self.held_mib = 0.0

    def add(self, metadata: dict) -> None:
        if ROW_COUNT in metadata:
            self.rows += metadata[ROW_COUNT].value
        if PEAK_MEMORY in metadata:
            self.peak_mib = max(self.peak_mib, metadata[PEAK_MEMORY].value)
        if HELD_MEMORY in metadata:
            self.held_mib = max(self.held_mib, metadata[HELD_MEMORY].value)

    def summary(self, ended: float) -> str:
        parts = [f"{ended - self.started:.1f}s"]
        if self.rows:
            parts.append(f"{self.rows:,} rows")
        if self.peak_mib:
            parts.append(f"peak {_memory(self.peak_mib)}")
        if self.held_mib:
            parts.append(f"held {_memory(self.held_mib)}")
        return ", ".join(parts)


class ProgressHandler(logging.Handler):
    def __init__(self, message_level: int, stream=sys.stdout) -> None:
        # Engine events arrive at DEBUG: the handler takes every record and filters itself.
        super().__init__(logging.DEBUG)
        self.message_level = message_level
        self.stream = stream
        self.steps: dict[str, _Step] = {}
        self.run_started: float | None = None
        self.done = 0

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        line = self.describe(event, step, record.created) if event else self.message(record, step)
        if line:
            clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
            print(f"{clock} {line}", file=self.stream, flush=True)

    def describe(self, event, step: str, at: float) -> str | None:
        kind = event.event_type_value
        if self.run_started is None:
            self.run_started = at
        if kind == STARTED:
            self.steps[step] = _Step(at)
            return f"▸ {step}"
        if kind == MATERIALIZED and step in self.steps:
            self.steps[step].add(event.event_specific_data.materialization.metadata)
            return None
        if kind in (SUCCEEDED, FAILED):
            self.done += 1
            summary = self.steps.pop(step, _Step(at)).summary(at)
            mark = "✓" if kind == SUCCEEDED else "✗"
            run = f"{self.done} done, {_duration(at - self.run_started)} into the run"
            return f"{mark} {step} ({summary}) · {run}"
        if kind == CHECK and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            return f"  ! check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
        return None

    def message(self, record: logging.LogRecord, step: str) -> str | None:
        if record.levelno < self.message_level:
            return None
        meta = getattr(record, "dagster_meta", {}) or {}
        return f"  {step}: {meta.get('orig_message', record.getMessage())}"


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="INFO")},
    description="One line per step as it starts and ends, and the messages the steps log.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("dancu.progress")
    logger.setLevel(logging.DEBUG)
    level = logging.getLevelName(init_context.logger_config["log_level"])
    logger.handlers = [ProgressHandler(level)]
    logger.propagate = False
    return logger
