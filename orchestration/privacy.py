"""Errors that reach Dagster's event log, masked: a library's message may quote a person's data."""

import functools
import inspect

import dagster as dg

from dancu.mask import mask_message


def _masked(error: Exception) -> dg.Failure:
    return dg.Failure(description=f"{type(error).__name__}: {mask_message(str(error))}")


def masked_errors(compute):
    """Wrap an asset's compute function so that an unexpected error is re-raised as a Failure
    whose message hides quoted values and long numbers, without the original (unmasked) cause."""
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generating(*args, **kwargs):
            try:
                yield from compute(*args, **kwargs)
            except dg.Failure:
                raise
            except Exception as error:
                raise _masked(error) from None

        return generating

    @functools.wraps(compute)
    def returning(*args, **kwargs):
        try:
            return compute(*args, **kwargs)
        except dg.Failure:
            raise
        except Exception as error:
            raise _masked(error) from None

    return returning
