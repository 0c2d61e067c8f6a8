"""The AWS actions each function's code calls, per resource: a logical id of template.yaml, with
``/index/<name>`` for an index. tests/unit/test_policies.py checks that the template grants each
function exactly these (plus LAMBDA_SERVICE_USES); the pipeline test
tests/integration/test_policies_used.py checks that the code calls exactly these.

Every function but the relay, which computes no date, reads the stored holiday schedules (BatchGetItem
on the catalog table) when it starts.
Writes go through TransactWriteItems, which IAM checks item by item (PutItem); UpdateItem is the
atomic counter (case numbers, certificate serials, waybills). Nothing deletes, nothing scans. S3
resources are buckets (the policy names the objects under a prefix).
"""

SCHEDULES = "dynamodb:BatchGetItem CatalogTable"
MATTER = "dynamodb:GetItem CatalogTable"
READ_CASE = "dynamodb:GetItem CasesTable"
CASE_PARTITION = "dynamodb:Query CasesTable"
WRITE_CASE = "dynamodb:PutItem CasesTable"
COUNTER = "dynamodb:UpdateItem CasesTable"
PUBLISH = "events:PutEvents CaseEventBus"
RESUME = "states:SendTaskSuccess CaseStateMachine"
FAIL = "states:SendTaskFailure CaseStateMachine"
START = "states:StartExecution CaseStateMachine"

USES: dict[str, set[str]] = {
    # The steps write the case and its outbox messages together; only the relay publishes and resumes.
    "IntakeFunction": {SCHEDULES, MATTER, READ_CASE, WRITE_CASE, PUBLISH, START},
    "PreReviewFunction": {
        SCHEDULES,
        MATTER,
        READ_CASE,
        CASE_PARTITION,
        WRITE_CASE,
        "dynamodb:Query CertificatesTable/index/ByHolder",
    },
    "AcceptanceFunction": {SCHEDULES, MATTER, READ_CASE, CASE_PARTITION, WRITE_CASE, COUNTER},
    "ReviewDispatchFunction": {SCHEDULES, READ_CASE, CASE_PARTITION, WRITE_CASE},
    "ReviewConsolidationFunction": {SCHEDULES, MATTER, READ_CASE, CASE_PARTITION, WRITE_CASE},
    "PaymentFunction": {SCHEDULES, MATTER, READ_CASE, CASE_PARTITION, WRITE_CASE},
    "CertificateFunction": {
        SCHEDULES,
        MATTER,
        READ_CASE,
        WRITE_CASE,
        COUNTER,
        # a transfer's seller title; a retried step's certificate, to render it again
        "dynamodb:GetItem CertificatesTable",
        "dynamodb:PutItem CertificatesTable",
        "kms:Sign CertificateSigningKey",
        "s3:PutObject RenderingsBucket",
    },
    "DeliveryFunction": {SCHEDULES, MATTER, READ_CASE, CASE_PARTITION, WRITE_CASE, COUNTER},
    "CompletionFunction": {SCHEDULES, READ_CASE, WRITE_CASE},
    # The sweep cursor is an item of the cases table (read and written like a case); a backlog that
    # outlasts one invocation is continued by invoking the function itself.
    "SweeperFunction": {
        SCHEDULES,
        MATTER,
        READ_CASE,
        WRITE_CASE,
        "dynamodb:Query CasesTable/index/DueAlarms",
        "lambda:InvokeFunction SweeperFunction",
    },
    "RelayFunction": {PUBLISH, RESUME, FAIL, "sns:Publish SupervisionTopic"},
    "ApiFunction": {
        SCHEDULES,
        MATTER,
        READ_CASE,
        CASE_PARTITION,
        WRITE_CASE,
        PUBLISH,
        START,
        "dynamodb:Query CasesTable/index/ClosedByMatterRegion",
        # search: each list reads one index, then its records in one batch
        "dynamodb:BatchGetItem CasesTable",
        "dynamodb:Query CasesTable/index/ByApplicant",
        "dynamodb:Query CasesTable/index/CasesByStatus",
        "dynamodb:Query CasesTable/index/CasesByStep",
        "dynamodb:Query CasesTable/index/OpenByRegion",
        "dynamodb:Query CasesTable/index/OpenByDeadline",
        "dynamodb:Query CasesTable/index/OpenTasksByPartner",
        "dynamodb:GetItem CertificatesTable",
        "kms:Verify CertificateSigningKey",
        "secretsmanager:GetSecretValue PartnerSecrets",
        # a holder's library, a revocation, the links to renderings it presigns
        "dynamodb:Query CertificatesTable/index/ByHolder",
        "dynamodb:PutItem CertificatesTable",
        "s3:GetObject RenderingsBucket",
    },
}

# Declared uses the local pipeline run does not reach, each with the reason.
# A step reads its case with its tasks in one query; only a write that loses a race reads the case
# again (services/common.apply), which the sequential run above never does (test_races.py does).
_RACE_REREAD = "a write that lost a race reads the case again (services/common.apply)"
NOT_EXERCISED_LOCALLY: dict[str, dict[str, str]] = {
    "ReviewDispatchFunction": {READ_CASE: _RACE_REREAD},
    "ReviewConsolidationFunction": {READ_CASE: _RACE_REREAD},
    "DeliveryFunction": {READ_CASE: _RACE_REREAD},
    "ApiFunction": {
        "s3:GetObject RenderingsBucket": "presigning makes no call: whoever follows the link does",
    },
    "AcceptanceFunction": {
        CASE_PARTITION: "only a resumed case's plan reads its tasks (test_faults.py resumes one)",
    },
    "SweeperFunction": {
        "lambda:InvokeFunction SweeperFunction": "only a backlog that outlasts an invocation's time is"
        " continued; tests/integration/test_sweep_continuation.py records that call",
    },
    "PaymentFunction": {
        MATTER: "the sample business start-up charges no fee, so no payment step runs",
        READ_CASE: "the sample business start-up charges no fee, so no payment step runs",
        CASE_PARTITION: "the sample business start-up charges no fee",
        WRITE_CASE: "the sample business start-up charges no fee",
        SCHEDULES: "the sample business start-up charges no fee",
    },
}

# What the Lambda service itself does with a function's role, not the code: sending a failed stream
# batch's record to the on-failure destination. (SAM adds the stream reads itself, with the managed
# AWSLambdaDynamoDBExecutionRole, for the DynamoDB event.)
LAMBDA_SERVICE_USES: dict[str, set[str]] = {
    "RelayFunction": {"sqs:SendMessage OutboxDeadLetterQueue"},
}
