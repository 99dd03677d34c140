"""Errors that reach Dagster's event log, masked: a library's message may quote a person's data.

`masked_errors` wraps every asset's compute function, so it is also where a step's work starts:
it starts measuring the step's peak memory there, which the staging I/O manager reports with each
output (see `dancu.memory.start_peak`).
"""

import functools
import inspect

import dagster as dg

from dancu.mask import mask_message
from dancu.memory import start_peak


def masked_failure(error: Exception) -> dg.Failure:
    """The Failure to raise, `from None`, in place of an unexpected error."""
    return dg.Failure(description=f"{type(error).__name__}: {mask_message(str(error))}")


def masked_errors(compute):
    """Wrap an asset's compute function so that an unexpected error is re-raised as a Failure
    whose message hides quoted values and long numbers, without the original (unmasked) cause;
    and start measuring the step's peak memory as it starts."""
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generating(*args, **kwargs):
            start_peak()
            try:
                yield from compute(*args, **kwargs)
            except dg.Failure:
                raise
            except Exception as error:
                raise masked_failure(error) from None

        return generating

    @functools.wraps(compute)
    def returning(*args, **kwargs):
        start_peak()
        try:
            return compute(*args, **kwargs)
        except dg.Failure:
            raise
        except Exception as error:
            raise masked_failure(error) from None

    return returning
