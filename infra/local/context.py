"""The one fake LambdaContext, used by the local runtime and by tests."""

from dataclasses import dataclass, field
from uuid import uuid4


@dataclass
class FakeLambdaContext:
    function_name: str = "local-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid4()))
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
