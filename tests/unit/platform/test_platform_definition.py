"""The template and the workflow agree: what a deploy would only find later, found here."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

import lending
from infra.local.template import ROOT, api_routes, functions, load_template, state_machines
from lending.scoring.model import ModelCardMismatch, load_model

TEMPLATE = load_template()
MACHINES = state_machines(TEMPLATE)
#: Error names AWS itself raises for Lambda tasks (service errors), besides the States.* family.
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
STATES_ERRORS = {
    "States.ALL",
    "States.Timeout",
    "States.HeartbeatTimeout",
    "States.TaskFailed",
    "States.Permissions",
    "States.Runtime",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
}


def _project_exceptions() -> set[str]:
    """Every exception class defined in the lending package (the names a function's errorType can carry)."""
    for module in pkgutil.walk_packages(lending.__path__, "lending."):
        importlib.import_module(module.name)
    names: set[str] = set()
    pending: list[type[BaseException]] = [Exception]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lending."):
                names.add(sub.__name__)
            pending.append(sub)
    return names


def _states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, the Parallel branches' and the Map's item processor's included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_states(branch))
        if "ItemProcessor" in state:
            found.update(_states(state["ItemProcessor"]))
    return found


def _rendered(logical_id: str) -> dict[str, Any]:
    machine = MACHINES[logical_id]
    return machine.render({name: "60" if "Seconds" in name else "arn:placeholder" for name in machine.substitutions})


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_placeholder_has_a_substitution_and_every_substitution_is_used(logical_id: str) -> None:
    machine = MACHINES[logical_id]
    assert machine.placeholders() == set(machine.substitutions)


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_next_and_start_names_a_state_and_every_state_is_reachable(logical_id: str) -> None:
    definition = _rendered(logical_id)

    def check(scope: dict[str, Any]) -> set[str]:
        names = set(scope["States"])
        assert scope["StartAt"] in names
        targets = {scope["StartAt"]}
        for state in scope["States"].values():
            for target in [state.get("Next"), state.get("Default")] + [
                c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])
            ]:
                if target is not None:
                    assert target in names, f"{target} is not a state"
                    targets.add(target)
            for branch in state.get("Branches", []):
                check(branch)
        assert names == targets, f"unreachable states: {names - targets}"
        return names

    check(definition)


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_error_name_in_retry_and_catch_is_real(logical_id: str) -> None:
    known = STATES_ERRORS | LAMBDA_SERVICE_ERRORS | _project_exceptions()
    for name, state in _states(_rendered(logical_id)).items():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            unknown = set(clause["ErrorEquals"]) - known
            assert not unknown, f"{name}: {sorted(unknown)} is neither a States.* error nor a project exception"


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_project_error_a_workflow_reacts_to_is_defined_in_lending_errors(logical_id: str) -> None:
    import lending.errors

    defined = {name for name, value in vars(lending.errors).items() if isinstance(value, type)}
    for name, state in _states(_rendered(logical_id)).items():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            ours = set(clause["ErrorEquals"]) - STATES_ERRORS - LAMBDA_SERVICE_ERRORS
            assert ours <= defined, f"{name}: {sorted(ours - defined)} is not a class of lending.errors"


def test_every_task_retries_transient_errors_and_every_step_has_a_way_out() -> None:
    for name, state in _states(_rendered("OriginationStateMachine")).items():
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{name} has no Retry"
        if state["Type"] in ("Task", "Parallel") and name not in {"NotifyOutcome", "NotifyFailure"}:
            assert state.get("Catch") or state.get("End") or name.startswith("Mark"), f"{name} has no Catch"


def test_waits_for_people_and_vendors_use_task_tokens_with_deadlines_from_parameters() -> None:
    machine = MACHINES["OriginationStateMachine"]
    states = _states(_rendered("OriginationStateMachine"))
    for name in ("RequestIdentityCheck", "AwaitUnderwriter"):
        assert states[name]["Resource"].endswith(".waitForTaskToken")
        assert isinstance(states[name]["TimeoutSeconds"], int)
    assert machine.substitutions["IdentityTimeoutSeconds"] == {"Ref": "IdentityTimeoutSeconds"}
    assert machine.substitutions["ReviewTimeoutSeconds"] == {"Ref": "ReviewTimeoutSeconds"}
    assert TEMPLATE["Resources"]["OriginationStateMachine"]["Properties"]["Type"] == "STANDARD"


def test_a_hardship_request_waits_for_the_underwriter_and_the_borrower_within_the_same_deadlines() -> None:
    machine = MACHINES["HardshipFlow"]
    states = _states(_rendered("HardshipFlow"))
    for name in ("AwaitReview", "AwaitAcceptance"):
        assert states[name]["Resource"].endswith(".waitForTaskToken")
        assert isinstance(states[name]["TimeoutSeconds"], int)
        assert {c["Next"] for c in states[name]["Catch"] if c["ErrorEquals"] == ["States.Timeout"]}
    assert machine.substitutions["ReviewTimeoutSeconds"] == {"Ref": "ReviewTimeoutSeconds"}
    assert machine.substitutions["AcceptanceTimeoutSeconds"] == {"Ref": "AcceptanceTimeoutSeconds"}
    assert TEMPLATE["Resources"]["HardshipFlow"]["Properties"]["Type"] == "STANDARD"
    # An APR above the cap ends the request declined, never a failed execution holding the loan
    above = next(c for c in states["AwaitAcceptance"]["Catch"] if c["ErrorEquals"] == ["RateCapExceeded"])
    assert states[above["Next"]]["Parameters"]["Payload"]["reason"] == "apr_above_cap"


def test_every_function_has_its_code_and_a_handler_that_exists() -> None:
    for spec in functions(TEMPLATE).values():
        module, _, attribute = spec.handler.rpartition(".")
        source = spec.code_dir / f"{module}.py"
        assert source.is_file(), f"{spec.logical_id}: {source} is missing"
        assert f"def {attribute}(" in source.read_text()


def test_the_scoring_model_is_a_stack_parameter_naming_a_shipped_model() -> None:
    # Given the template's model parameter and the scoring function's environment
    parameter = TEMPLATE["Parameters"]["CreditModelId"]
    environment = TEMPLATE["Resources"]["CreditScoringFunction"]["Properties"]["Environment"]["Variables"]

    # Then the function reads the model from the parameter, and the default is a model the layer ships and loads
    assert environment["CREDIT_MODEL_ID"] == {"Ref": "CreditModelId"}
    assert load_model(parameter["Default"]).model_id == parameter["Default"]


def test_the_challenger_is_a_stack_parameter_naming_another_shipped_model() -> None:
    # Given the template's challenger parameter and the scoring function's environment
    parameter = TEMPLATE["Parameters"]["ChallengerModelId"]
    environment = TEMPLATE["Resources"]["CreditScoringFunction"]["Properties"]["Environment"]["Variables"]

    # Then the function reads it from the parameter; its default is shipped, carried as the challenger by its card,
    # and not the champion; and it may be left empty (no shadow scoring)
    assert environment["CHALLENGER_MODEL_ID"] == {"Ref": "ChallengerModelId"}
    challenger = load_model(parameter["Default"])
    assert challenger.card["role"] == "challenger"
    assert parameter["Default"] != TEMPLATE["Parameters"]["CreditModelId"]["Default"]
    assert re.fullmatch(parameter["AllowedPattern"], "")


def test_a_model_the_layer_does_not_ship_is_refused_naming_the_ones_it_does() -> None:
    with pytest.raises(ModelCardMismatch, match=r"'credit_gbdt_v0'.*credit_gbdt_v2, credit_scorecard_v2"):
        load_model("credit_gbdt_v0")


def _deploy_overrides(environment: dict[str, Any]) -> dict[str, str]:
    """``parameter_overrides`` of one samconfig environment, as the SAM CLI splits it: Key="value" pairs."""
    pairs = (item.partition("=") for item in shlex.split(environment["deploy"]["parameters"]["parameter_overrides"]))
    return {key: value for key, _, value in pairs}


def test_each_deploy_environment_overrides_only_real_parameters_with_allowed_values() -> None:
    # Given the sam deploy defaults, one environment per stage
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    environments = {name: value for name, value in config.items() if isinstance(value, dict)}
    parameters = TEMPLATE["Parameters"]

    # Then each stage deploys its own stack, and every override names a template parameter with a value it allows
    assert set(environments) == {"default", "staging", "prod"}
    stacks = {environment["global"]["parameters"]["stack_name"] for environment in environments.values()}
    assert len(stacks) == len(environments)
    for name, environment in environments.items():
        overrides = _deploy_overrides(environment)
        assert overrides["Stage"] == ("dev" if name == "default" else name)
        for key, value in overrides.items():
            assert key in parameters, f"{name}: {key} is not a template parameter"
            allowed = parameters[key].get("AllowedValues")
            assert allowed is None or value in [str(v) for v in allowed], f"{name}: {key}={value}"
            pattern = parameters[key].get("AllowedPattern")
            assert pattern is None or re.fullmatch(pattern, value), f"{name}: {key}={value}"
        assert load_model(overrides["CreditModelId"]).model_id == overrides["CreditModelId"]


def test_the_api_routes_are_the_contract() -> None:
    routes = {(r.method, r.path): r.authorizer for r in api_routes(TEMPLATE)}
    assert routes == {
        ("POST", "/v1/applications"): "CognitoAuthorizer",
        ("GET", "/v1/applications/{application_id}"): "CognitoAuthorizer",
        ("GET", "/v1/applications/{application_id}/contract"): "CognitoAuthorizer",
        ("POST", "/v1/applications/{application_id}/acceptance"): "CognitoAuthorizer",
        ("GET", "/v1/reviews"): "CognitoAuthorizer",
        ("POST", "/v1/reviews/{application_id}"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/audit"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/payoff"): "CognitoAuthorizer",
        ("POST", "/v1/loans/{loan_id}/drawdowns"): "CognitoAuthorizer",
        ("GET", "/v1/applications"): "CognitoAuthorizer",
        ("GET", "/v1/loans"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/transactions"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/statements"): "CognitoAuthorizer",
        ("POST", "/v1/loans/{loan_id}/repayments"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/repayments"): "CognitoAuthorizer",
        ("GET", "/v1/ops/funding"): "CognitoAuthorizer",
        ("GET", "/v1/ops/reconciliation"): "CognitoAuthorizer",
        ("GET", "/v1/ops/loans/{loan_id}"): "CognitoAuthorizer",
        ("GET", "/v1/ops/portfolio"): "CognitoAuthorizer",
        ("POST", "/v1/ops/loans/{loan_id}/write-off"): "CognitoAuthorizer",
        ("POST", "/v1/ops/loans/{loan_id}/write-off/decision"): "CognitoAuthorizer",
        ("POST", "/v1/loans/{loan_id}/hardship"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/hardship/{request_id}"): "CognitoAuthorizer",
        ("GET", "/v1/loans/{loan_id}/hardship/{request_id}/contract"): "CognitoAuthorizer",
        ("POST", "/v1/loans/{loan_id}/hardship/{request_id}/acceptance"): "CognitoAuthorizer",
        ("GET", "/v1/ops/warnings"): "CognitoAuthorizer",
        ("POST", "/v1/webhooks/identity"): None,
        ("POST", "/v1/webhooks/payments"): None,
        ("GET", "/v1/openapi.json"): None,
    }


def test_no_policy_grants_full_access() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert "FullAccess" not in text
    assert Path(ROOT / "infra/statemachine/origination.asl.json").is_file()


def test_a_failed_payout_releases_a_drawdown_but_a_paid_one_is_never_released() -> None:
    states = _states(_rendered("DrawdownStateMachine"))
    # Only a payout the bank refused for good is released; an outcome that is not known holds for an operator.
    assert [(c["ErrorEquals"], c["Next"]) for c in states["Disburse"]["Catch"]] == [
        (["PayoutRejected"], "ReleaseDrawdown"),
        (["States.ALL"], "PayoutUncertain"),
    ]
    disburse = _states(_rendered("OriginationStateMachine"))["Disburse"]
    assert [c["Next"] for c in disburse["Catch"]] == ["ReleaseFunding", "PayoutUncertain"]
    assert "PayoutUnavailable" in states["Disburse"]["Retry"][0]["ErrorEquals"]
    # Once paid, only booking follows: a booking failure fails the execution (an alarm), never a release.
    assert "Catch" not in states["BookDrawdown"]
    assert _states(_rendered("OriginationStateMachine"))["BookLoan"]["Catch"][0]["Next"] == "PaidButNotBooked"


def test_the_daily_close_is_scheduled_and_reads_the_due_index() -> None:
    close = TEMPLATE["Resources"]["DailyCloseFunction"]["Properties"]
    assert close["Events"]["EveryNight"]["Type"] == "Schedule"
    indexes = TEMPLATE["Resources"]["LoansTable"]["Properties"]["GlobalSecondaryIndexes"]
    due = next(index for index in indexes if index["IndexName"] == "DueLoans")
    assert [k["AttributeName"] for k in due["KeySchema"]] == ["due_shard", "next_due_on"]


def test_every_handler_starts_each_invocation_with_fresh_log_keys() -> None:
    # Keys appended for one loan or application must not label the next invocation's logs.
    for spec in functions(TEMPLATE).values():
        source = (spec.code_dir / "app.py").read_text()
        assert "inject_lambda_context(log_event=False, clear_state=True)" in source, spec.logical_id


def _topic_key_lets_cloudwatch_publish(topic: dict[str, Any]) -> bool:
    """An unencrypted topic, or one under a key of this template whose policy lets CloudWatch encrypt for it."""
    key = topic["Properties"].get("KmsMasterKeyId")
    if key is None:
        return True
    if not (isinstance(key, dict) and "Ref" in key):
        return False  # an alias or ARN of a key not made here, such as alias/aws/sns, whose policy cannot say so
    statements = TEMPLATE["Resources"][key["Ref"]]["Properties"]["KeyPolicy"]["Statement"]
    for statement in statements:
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and "cloudwatch.amazonaws.com" in services:
            return "kms:Decrypt" in actions and any(
                a in ("kms:GenerateDataKey*", "kms:GenerateDataKey") for a in actions
            )
    return False


def test_every_alarm_notifies_a_topic_cloudwatch_may_publish_to() -> None:
    # Given every alarm of the template
    resources = TEMPLATE["Resources"]
    alarms = {name: r for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms
    for name, alarm in alarms.items():
        actions = alarm["Properties"].get("AlarmActions", [])
        # Then it has an action, each a topic of this template whose encryption CloudWatch may use
        assert actions, f"{name} notifies nobody"
        for action in actions:
            assert isinstance(action, dict), f"{name}: {action} is not a topic of this template"
            assert "Ref" in action, f"{name}: {action} is not a topic of this template"
            topic = resources[action["Ref"]]
            assert topic["Type"] == "AWS::SNS::Topic"
            assert _topic_key_lets_cloudwatch_publish(topic), f"{name}: CloudWatch cannot publish to {action['Ref']}"


def _step_functions(logical_id: str) -> dict[str, str]:
    """Each placeholder of the machine's ASL that names a function, to that function's logical id."""
    found = {}
    for name, value in MACHINES[logical_id].substitutions.items():
        target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        if target:
            found[name] = target[0] if isinstance(target, list) else target.split(".")[0]
    return found


@pytest.mark.parametrize("logical_id", sorted(MACHINES))
def test_every_task_passes_exactly_what_its_step_parses(logical_id: str) -> None:
    # Given each Lambda task of the workflow, the function it invokes, and the model that function's handler parses
    # its event with (Powertools' event_parser, lending.steps.inputs)
    from lending.steps import inputs

    machine = MACHINES[logical_id]
    names = _step_functions(logical_id)
    rendered = machine.render({n: names.get(n, "60") for n in machine.substitutions})
    specs = functions(load_template())
    checked = 0
    for name, state in _states(rendered).items():
        if state.get("Type") != "Task":
            continue
        function = state["Parameters"]["FunctionName"]
        source = (specs[function].code_dir / "app.py").read_text()
        model_name = re.search(r"@event_parser\(model=(\w+)\)", source)
        assert model_name, f"{function} parses no event model"
        model = getattr(inputs, model_name.group(1))
        passed = {key.removesuffix(".$") for key in state["Parameters"]["Payload"]}
        required = {field for field, info in model.model_fields.items() if info.is_required()}
        # Then the task passes every field the model requires, and nothing it does not know
        assert required <= passed <= set(model.model_fields), (name, function, sorted(passed))
        checked += 1
    assert checked >= 2
