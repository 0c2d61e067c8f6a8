"""A function's cold start in Lambda: no garbage collection while its modules load, and every
object then alive frozen out of later collections.

Loading a handler's modules makes tens of thousands of objects that live as long as the execution
environment (modules, classes, functions, the models' definitions); next to none of them is
garbage. CPython's collector still runs about 40 times while they load, each time over all of them
made so far: 14 to 17 ms of a handler's import, measured, about a fourteenth of the floor
(``import boto3; boto3.client("dynamodb")``). A handler imports this module before any other, and
``observability.cold_start()``, called after its imports, calls ``loaded()``: every object then
alive in the process (80,000 to 95,000: the handler's modules' and the Lambda runtime's own, with a
few hundred pieces of garbage the import left, about 130 KB, that stay) is frozen (``gc.freeze``),
so that no later collection walks it, and the collector runs again.

Only in Lambda (``AWS_EXECUTION_ENV``, which the runtime sets before it imports the handler): a
process that hosts many functions (the local runtime, the tests) or runs a command keeps its
collector as it is.
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
