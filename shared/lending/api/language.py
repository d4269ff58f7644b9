"""The language of an error's ``message``: ``Accept-Language`` picks ``en`` or ``zh-CN`` (the default).

Codes never change with the language. An English message says what exactly was wrong (the field, the limit); the
Chinese one says what kind of refusal it is, and ``fields`` (on a 422) still names each field refused.
"""

from __future__ import annotations

import re

ENGLISH = "en"
CHINESE = "zh-CN"

#: The message a borrower reading Chinese gets, by error code.
CHINESE_MESSAGES: dict[str, str] = {
    "invalid_request": "请求内容无效，请检查所列字段",
    "invalid_encoding": "请求内容不是有效的 UTF-8 JSON",
    "nesting_too_deep": "请求内容嵌套层级过深",
    "payload_too_large": "请求内容过大",
    "unsupported_media_type": "请求内容须为 application/json",
    "unauthorized": "需要有效的访问令牌",
    "invalid_signature": "签名无效或已过期",
    "forbidden": "您没有执行此操作的权限",
    "not_found": "请求的资源不存在",
    "conflict": "该申请当前状态不允许此操作",
    "write_off_refused": "该贷款当前不能核销（已结清、已核销或已有待复核的核销）",
    "no_write_off_pending": "该贷款没有待复核的核销申请",
    "snapshot_not_found": "该日没有组合快照",
    "idempotency_conflict": "该幂等键已用于另一请求内容",
    "request_in_progress": "相同请求仍在处理中，请稍后重试",
    "drawdown_refused": "超出可用额度，或额度已冻结",
    "not_awaiting_acceptance": "该申请当前没有待接受的要约",
    "contract_mismatch": "该合同不是为此申请出具的合同",
    "offer_expired": "要约已过期",
    "already_accepted": "该申请已接受另一份合同",
    "too_many_contracts": "该申请出具的合同版本已达上限",
    "not_a_line": "分期贷款没有账单，请查看还款计划",
    "report_not_found": "该日没有对账报告",
    "paid_at_in_future": "付款时间晚于平台当前时间",
    "invalid_amount": "金额无效",
    "invalid_rate": "利率无效",
    "invalid_id_number": "身份证号码无效",
    "product_rule_violation": "申请不符合该产品的规则（金额、期限或还款方式）",
    "catalogue_error": "产品目录中没有该项",
    "rate_cap_exceeded": "利率超过上限",
    "servicing_contention": "贷款状态刚刚发生变化，请使用同一幂等键重试",
    "exceeds_payoff": "还款金额超过今日结清金额",
    "collection_unavailable": "支付机构暂时无法响应，请使用同一幂等键重试",
    "internal_error": "服务内部错误",
    "hardship_in_progress": "该笔贷款已有一项困难救济申请正在处理中",
    "relief_not_available": "循环授信额度不适用还款困难救济",
    "loan_closed": "该笔贷款已结清",
    "loan_written_off": "该笔贷款已核销",
    "maker_checker_violation": "申请的提出人不能审批该申请",
    # Answers the local front (API Gateway's part) makes itself.
    "bad_request": "无法读取该请求",
    "origin_not_allowed": "此来源不允许调用该接口",
    "method_not_allowed": "该资源不支持此请求方法",
    "request_timeout": "请求超时",
    "uri_too_long": "请求地址过长",
    "headers_too_large": "请求头过大",
    "not_implemented": "服务器无法处理该请求",
    "bad_gateway": "服务响应异常，请稍后再试",
    "http_version_not_supported": "不支持该 HTTP 版本",
}
#: What a code without its own Chinese message says.
CHINESE_FALLBACK = "请求未能完成"

_QUALITY = re.compile(r"q\s*=\s*([0-9.]+)")


def preferred_language(accept_language: str | None) -> str:
    """``en`` when the caller prefers English, else ``zh-CN``: the highest-ranked tag of either, by quality."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        match = _QUALITY.search(parameters)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag == "en" or tag.startswith("en-"):
            return ENGLISH
        if tag == "zh" or tag.startswith("zh-"):
            return CHINESE
    return CHINESE


def message_in(language: str, code: str, english: str) -> str:
    """The message for a person reading ``language``."""
    return english if language == ENGLISH else CHINESE_MESSAGES.get(code, CHINESE_FALLBACK)
