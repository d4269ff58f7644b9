"""Workflow step: the bureau report and behaviour data through the ONNX credit model (one session per process)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.settings import Settings, settings
from lending.adapters.vendors.bureau import CreditBureauClient
from lending.scoring.model import load_model
from lending.steps.assessment import score_credit
from lending.steps.inputs import ApplicationStep

logger = Logger()
tracer = Tracer()


class CreditScoringSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    credit_bureau_url: str = Field(alias="CREDIT_BUREAU_URL", min_length=1)
    credit_model_id: str | None = Field(None, alias="CREDIT_MODEL_ID")
    challenger_model_id: str | None = Field(None, alias="CHALLENGER_MODEL_ID")


# The models the stack's CreditModelId and ChallengerModelId name, verified and their sessions built during the
# init phase, once per execution environment; an unknown or altered model fails the init instead of any application.
load_model(settings(CreditScoringSettings).credit_model_id or None)
if settings(CreditScoringSettings).challenger_model_id:
    load_model(settings(CreditScoringSettings).challenger_model_id)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings(CreditScoringSettings)
    return score_credit(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        bureau=CreditBureauClient(config.credit_bureau_url),
        decrypt=decrypt_fields,
        model=load_model(config.credit_model_id or None),
        challenger=load_model(config.challenger_model_id) if config.challenger_model_id else None,
    )
