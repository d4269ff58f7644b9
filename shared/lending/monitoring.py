"""Model monitoring: is this month's population still the one the models were trained on, and do the champion and
the challenger that shadow-scores beside it agree?

- Population stability index (PSI) of each model's score against its training sample (the card's
  ``psi_baseline``: bins at the training deciles) and of each model input (the card's ``feature_baseline``: bins at
  each input's training deciles or one per category, and a bin for missing values). The usual reading: below 0.10
  stable, 0.10 to 0.25 watch, above 0.25 a shift worth acting on.
- Agreement: the share of applications where both models give the same grade, and the same outcome band under the
  policy's score cut-offs (both models score on the same points scale), and the rank (Spearman) correlation of
  their probabilities of default.

The scoring step keeps, on each application, both scores and the bin of each input (never the inputs themselves,
which come from the applicant's credit report); this module reads those records and the cards. No AWS here.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lending.scoring.bins import Reference, feature_references, score_reference

if TYPE_CHECKING:
    from lending.risk.policy import ScoreCutoffs

#: Each share is floored here before the logarithm: an empty bin would make the index infinite (the training
#: pipeline's floor, so the card's own ``psi_holdout`` is computed the same way).
PSI_FLOOR = 1e-4
#: The usual reading of the index.
STABLE_BELOW = 0.10
SHIFT_ABOVE = 0.25
#: Below this many applications a month's index is noisy (an empty bin alone adds about 0.001 × ln 10).
FEW_APPLICATIONS = 100
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Stability(StrEnum):
    STABLE = "stable"
    WATCH = "watch"
    SHIFT = "shift"


def reading(psi: float) -> Stability:
    """The usual reading of a PSI: < 0.10 stable, 0.10–0.25 watch, > 0.25 shift."""
    if psi < STABLE_BELOW:
        return Stability.STABLE
    return Stability.WATCH if psi <= SHIFT_ABOVE else Stability.SHIFT


def population_stability(expected_share: Sequence[float], actual_counts: Sequence[int]) -> float:
    """sum((actual - expected) × ln(actual / expected)) over the bins, each share floored at ``PSI_FLOOR``."""
    if len(expected_share) != len(actual_counts):
        raise ValueError(f"{len(actual_counts)} counts for {len(expected_share)} bins")
    total = sum(actual_counts)
    if total <= 0:
        raise ValueError("no applications to compare")
    psi = 0.0
    for expected, count in zip(expected_share, actual_counts, strict=True):
        e, a = max(expected, PSI_FLOOR), max(count / total, PSI_FLOOR)
        psi += (a - e) * math.log(a / e)
    return psi


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def rank_correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's on average ranks); None when either side has no spread."""
    if len(xs) != len(ys):
        raise ValueError("rank correlation needs pairs")
    rx, ry = average_ranks(xs), average_ranks(ys)
    n = len(rx)
    if n < 2:
        return None
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


class Band(StrEnum):
    """What the policy's score cut-offs alone would make of a score."""

    APPROVE = "approve"
    REFER = "refer"
    DECLINE = "decline"


def band(score: int, cutoffs: ScoreCutoffs) -> Band:
    if score >= cutoffs.approve_at_or_above:
        return Band.APPROVE
    return Band.DECLINE if score < cutoffs.decline_below else Band.REFER


# --- what the scoring step keeps on an application -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredScore:
    model_id: str
    score: int
    grade: str
    probability_of_default: Decimal

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> StoredScore:
        return cls(
            str(raw["model_id"]), int(raw["score"]), str(raw["grade"]), Decimal(str(raw["probability_of_default"]))
        )


@dataclass(frozen=True, slots=True)
class Monitored:
    """One scored application as monitoring reads it."""

    scored_on: str
    champion: StoredScore
    challenger: StoredScore | None
    #: The card (model id) whose feature baseline the bins index, and each input's bin.
    bins_of: str | None
    bins: Mapping[str, int]

    @classmethod
    def parse(cls, application: Mapping[str, Any]) -> Monitored | None:
        """The scores and input bins of an application, or None when it was never scored (or scored before
        scores carried their date)."""
        score = application.get("score")
        if not isinstance(score, Mapping) or not score.get("scored_on"):
            return None
        challenger = application.get("challenger_score")
        bins = application.get("feature_bins") or {}
        return cls(
            str(score["scored_on"]),
            StoredScore.parse(score),
            StoredScore.parse(challenger) if isinstance(challenger, Mapping) else None,
            str(bins["model_id"]) if bins else None,
            {str(name): int(b) for name, b in (bins.get("bins") or {}).items()},
        )


# --- the monthly report ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StabilityLine:
    name: str
    psi: float
    n: int

    @property
    def reading(self) -> Stability:
        return reading(self.psi)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "psi": round(self.psi, 6), "reading": self.reading.value, "n": self.n}


def stability(reference: Reference, bins: Iterable[int]) -> StabilityLine:
    """The PSI of a month's bin memberships against a reference."""
    counts = Counter(bins)
    actual = [counts.get(b, 0) for b in range(len(reference.expected_share))]
    if sum(actual) != sum(counts.values()):
        raise ValueError(f"{reference.name}: a bin outside its reference's {len(reference.expected_share)}")
    return StabilityLine(reference.name, population_stability(reference.expected_share, actual), sum(actual))


@dataclass(frozen=True, slots=True)
class Agreement:
    """The champion and the challenger on the applications both scored."""

    n: int
    same_grade: float
    same_band: float
    rank_correlation: float | None
    #: (champion grade, challenger grade) → applications.
    grades: Mapping[tuple[str, str], int]

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "same_grade": round(self.same_grade, 6),
            "same_band": round(self.same_band, 6),
            "rank_correlation": None if self.rank_correlation is None else round(self.rank_correlation, 6),
            "grades": [{"champion": c, "challenger": h, "n": n} for (c, h), n in sorted(self.grades.items())],
        }


def agreement(pairs: Sequence[tuple[StoredScore, StoredScore]], cutoffs: ScoreCutoffs) -> Agreement | None:
    """How often the two models agree, over (champion, challenger) pairs; None without pairs."""
    if not pairs:
        return None
    n = len(pairs)
    return Agreement(
        n,
        sum(c.grade == h.grade for c, h in pairs) / n,
        sum(band(c.score, cutoffs) is band(h.score, cutoffs) for c, h in pairs) / n,
        rank_correlation(
            [float(c.probability_of_default) for c, _ in pairs], [float(h.probability_of_default) for _, h in pairs]
        ),
        dict(Counter((c.grade, h.grade) for c, h in pairs)),
    )


@dataclass(frozen=True, slots=True)
class Pairing:
    """The applications a champion scored in the month (with the challenger beside it, if one was)."""

    champion: str
    challenger: str | None
    n: int
    scores: tuple[StabilityLine, ...]
    features: tuple[StabilityLine, ...]
    agreement: Agreement | None

    def to_json(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "challenger": self.challenger,
            "applications": self.n,
            "score_stability": [line.to_json() for line in self.scores],
            "feature_stability": [line.to_json() for line in self.features],
            "agreement": None if self.agreement is None else self.agreement.to_json(),
        }


@dataclass(frozen=True, slots=True)
class MonitoringReport:
    month: str
    cutoffs: ScoreCutoffs
    pairings: tuple[Pairing, ...]

    @property
    def applications(self) -> int:
        return sum(p.n for p in self.pairings)

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "applications": self.applications,
            "reading": {"stable_below": STABLE_BELOW, "shift_above": SHIFT_ABOVE},
            "score_cutoffs": self.cutoffs.model_dump(),
            "pairings": [pairing.to_json() for pairing in self.pairings],
        }

    def render(self) -> str:
        lines = [f"model monitoring {self.month}: {self.applications} applications scored"]
        if not self.pairings:
            return "\n".join([*lines, "", "(no application was scored this month)"])
        for pairing in self.pairings:
            lines += ["", f"champion {pairing.champion}, challenger {pairing.challenger or '(none)'}: {pairing.n}"]
            if pairing.n < FEW_APPLICATIONS:
                lines.append(f"  fewer than {FEW_APPLICATIONS} applications: the indices are noisy, read with care")
            lines += [
                "",
                f"  population stability against the training sample (PSI; < {STABLE_BELOW:.2f} stable, "
                f"{STABLE_BELOW:.2f}-{SHIFT_ABOVE:.2f} watch, > {SHIFT_ABOVE:.2f} shift)",
                f"  {'':<32}{'PSI':>9}  {'reading':<7}{'n':>7}",
            ]
            for line in (*pairing.scores, *pairing.features):
                lines.append(f"  {line.name:<32}{line.psi:>9.4f}  {line.reading.value:<7}{line.n:>7}")
            lines += ["", *_agreement_lines(pairing.agreement, self.cutoffs)]
        return "\n".join(lines)


def _agreement_lines(found: Agreement | None, cutoffs: ScoreCutoffs) -> list[str]:
    if found is None:
        return ["  champion/challenger agreement: no application was scored by both"]
    correlation = "n/a" if found.rank_correlation is None else f"{found.rank_correlation:.3f}"
    lines = [
        f"  champion/challenger agreement ({found.n} applications scored by both)",
        f"  same grade                      {found.same_grade:>8.1%}",
        f"  same outcome band               {found.same_band:>8.1%}  (score cut-offs: approve at or above "
        f"{cutoffs.approve_at_or_above}, decline below {cutoffs.decline_below})",
        f"  rank correlation of P(bad)      {correlation:>8}  (Spearman)",
        "",
        "  grades (rows champion, columns challenger)",
    ]
    grades = sorted({g for pair in found.grades for g in pair})
    lines.append("        " + "".join(f"{g:>6}" for g in grades))
    for row in grades:
        lines.append(f"  {row:<6}" + "".join(f"{found.grades.get((row, column), 0):>6}" for column in grades))
    return lines


def build_report(
    month: str,
    applications: Iterable[Mapping[str, Any]],
    *,
    card: Callable[[str], Mapping[str, Any]],
    cutoffs: ScoreCutoffs,
) -> MonitoringReport:
    """The month's report over the stored applications scored in it (``month`` as YYYY-MM); ``card`` gives a
    model's card by its id."""
    if not MONTH.match(month):
        raise ValueError(f"the month must be YYYY-MM, not {month!r}")
    groups: defaultdict[tuple[str, str | None], list[Monitored]] = defaultdict(list)
    for application in applications:
        found = Monitored.parse(application)
        if found is not None and found.scored_on[:7] == month:
            challenger = found.challenger.model_id if found.challenger is not None else None
            groups[(found.champion.model_id, challenger)].append(found)
    pairings = []
    for (champion, challenger), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        scores = [_score_line(card(champion), [m.champion for m in members])]
        pairs = [(m.champion, m.challenger) for m in members if m.challenger is not None]
        if challenger is not None:
            scores.append(_score_line(card(challenger), [h for _, h in pairs]))
        pairings.append(
            Pairing(
                champion,
                challenger,
                len(members),
                tuple(scores),
                _feature_lines(members, card),
                agreement(pairs, cutoffs),
            )
        )
    return MonitoringReport(month, cutoffs, tuple(pairings))


def _score_line(model_card: Mapping[str, Any], scores: Sequence[StoredScore]) -> StabilityLine:
    reference = score_reference(model_card)
    return stability(reference, (reference.bin_of(float(s.score)) for s in scores))


def _feature_lines(members: Sequence[Monitored], card: Callable[[str], Mapping[str, Any]]) -> tuple[StabilityLine, ...]:
    """Each input's PSI, against the baseline of the card the bins were taken on (applications with none skipped)."""
    by_card: defaultdict[str, list[Monitored]] = defaultdict(list)
    for member in members:
        if member.bins_of is not None:
            by_card[member.bins_of].append(member)
    lines = []
    for model_id, binned in sorted(by_card.items()):
        for name, reference in feature_references(card(model_id)).items():
            lines.append(stability(reference, (m.bins[name] for m in binned if name in m.bins)))
    return tuple(lines)
