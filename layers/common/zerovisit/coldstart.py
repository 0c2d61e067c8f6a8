"""A function's cold start in Lambda: no garbage collection while its modules load, and what they
made frozen out of every later collection.

Loading a handler's modules makes some 50,000 objects that live as long as the execution
environment (modules, classes, functions, the models' definitions); next to none of them is
garbage. CPython's collector still runs about 40 times while they load, each time over all of them
made so far: 14 to 17 ms of a handler's import, measured, about a fourteenth of the floor
(``import boto3; boto3.client("dynamodb")``). A handler imports this module before any other, and
``observability.cold_start()``, called after its imports, calls ``loaded()``: the objects made so
far are frozen (``gc.freeze``), so that no later collection walks them, and the collector runs again.

Only in Lambda (``AWS_EXECUTION_ENV``, which the runtime sets): a process that hosts many functions
(the local runtime, the tests) or runs a command keeps its collector as it is.
"""

import gc
import os

IN_LAMBDA = os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")

if IN_LAMBDA:
    gc.disable()


def loaded() -> None:
    """The function's modules are loaded: freeze what they made, and collect garbage again."""
    if IN_LAMBDA:
        gc.freeze()
        gc.enable()
