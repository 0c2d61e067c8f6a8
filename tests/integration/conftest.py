from typing import Any

import boto3
import pytest

from infra.local.runtime import REGION, LocalRuntime


@pytest.fixture
def dynamodb(runtime: LocalRuntime) -> Any:
    """A DynamoDB client on the local stack, as the storage layer and the tests' writers use it."""
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(runtime: LocalRuntime) -> str:
    """The cases table's name."""
    return runtime.resources["CasesTable"]
