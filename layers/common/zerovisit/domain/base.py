"""The base of every pydantic model in the package.

A model's validator and serializer are built on its first use, not when its module is imported. A
handler imports the whole domain, but one invocation validates a handful of models: the case, its
step's input, what it writes. Built at import, the rest cost a cold start about a third of the
floor (``import boto3; boto3.client("dynamodb")``) and were never used. A model validated only
inside another (an applicant inside a case) is never built on its own.

pydantic 2.13 does not guard that first build against threads: two threads using a model first at
the same moment both build it, and one may read the class while the other takes it apart. Lambda
runs one request at a time in an environment, but the local runtime and any threaded caller do not,
so the first build of every model is taken under one lock (pydantic 2.14 does the same, but the SAM
translator the local runtime uses still requires 2.13).
"""

import threading
from typing import Any

from pydantic import BaseModel, ConfigDict

_first_build = threading.RLock()  # one for all models: building a model builds those it holds


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if cls.__pydantic_complete__ and not force:
            return None
        with _first_build:
            return super().model_rebuild(
                force=force,
                raise_errors=raise_errors,
                # this frame stands between pydantic's caller and the namespace it means
                _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0,
                _types_namespace=_types_namespace,
            )
