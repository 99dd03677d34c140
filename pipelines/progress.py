"""Compact progress for `dancu run` in a terminal: one line as each step starts and ends.

Dagster's own console log tells every engine event; a data engineer running the pipeline by
hand wants to see which step is working, how long each took, and what went wrong.
"""

import logging
import sys
from datetime import datetime

import dagster as dg

STARTED, SUCCEEDED, FAILED = "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"
CHECK = "ASSET_CHECK_EVALUATION"


class ProgressHandler(logging.Handler):
    def __init__(self, message_level: int, stream=sys.stdout) -> None:
        # Engine events arrive at DEBUG: the handler takes every record and filters itself.
        super().__init__(logging.DEBUG)
        self.message_level = message_level
        self.stream = stream
        self.started: dict[str, float] = {}

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
        if kind == STARTED:
            self.started[step] = at
            return f"▸ {step}"
        if kind in (SUCCEEDED, FAILED):
            seconds = at - self.started.pop(step, at)
            mark = "✓" if kind == SUCCEEDED else "✗"
            return f"{mark} {step} ({seconds:.1f}s)"
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
