"""The base of every pydantic model in the package.

A model's core schema, validator and serializer are built on its first use, not when its module is
imported. A handler imports the whole domain, but one invocation validates a handful of models: the
case, its step's input, what it writes. Built at import, all of them cost a step handler's cold
start a seventh or so of the floor (``import boto3; boto3.client("dynamodb")``), most of it for
models it never used. A model validated only
inside another (an applicant inside a case) is never built on its own.

pydantic 2.13 does not guard that first build against threads: two threads using a model first at
the same moment both build it, and one may read the class while the other takes it apart (its JSON
schema then comes out as its parent's). Lambda runs one request at a time in an environment, but a
threaded caller does not (the local runtime's concurrency tests, a script), so the first build of
every model is taken under one lock, and a JSON schema waits for it. pydantic 2.14 takes such a lock
itself, but the SAM translator the local runtime uses still requires 2.13.
"""

import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode

# One for all models: a model's build reads the classes of the models it holds, which another
# thread's build may be changing. A type adapter made for a model builds it too: take it then.
first_build = threading.RLock()


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
        with first_build:
            return super().model_rebuild(
                force=force,
                raise_errors=raise_errors,
                # this frame stands between pydantic's caller and the namespace it means
                _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0,
                _types_namespace=_types_namespace,
            )

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool = True,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        # pydantic reads the class's schema outside the build's lock; the namespace is the caller's
        cls.model_rebuild(_parent_namespace_depth=3)
        return super().model_json_schema(
            by_alias, ref_template, schema_generator, mode, union_format=union_format
        )
