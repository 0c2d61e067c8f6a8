"""The one fake LambdaContext, used by the local runtime and by tests."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

from zerovisit.clock import clock

ACCOUNT = "123456789012"  # moto's default account, which the local stack lives in
REGION = "us-east-1"


@dataclass
class FakeLambdaContext:
    function_name: str = "local-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid4()))
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "local"
    timeout_seconds: float = 30.0
    started_at: datetime = field(default_factory=clock.now)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """The timeout less the time since the invocation began, on the domain clock: it flows in
        real time, and a test that advances it uses up the invocation's time as slow work would."""
        left = self.started_at + timedelta(seconds=self.timeout_seconds) - clock.now()
        return max(0, int(left / timedelta(milliseconds=1)))
