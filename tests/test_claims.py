"""The claim engine: premises before rules, records that render without parsing strings."""

import json

import pytest

from lrgap_nb import claims, stats
from lrgap_nb.book import report

A, B = [10.0, 10.2, 9.8], [5.0, 5.1, 4.9]


def judged(**changes):
    arguments = dict(
        source="Li et al. 2019, Figure 1", paper="90.41 vs 84.93", values={"large": A, "small": B},
        seeds=[0, 1, 2], scale="toy", rule=claims.difference("large", "small", 1.0, " pts"),
    )  # fmt: skip
    arguments.update(changes)
    return claims.judge("large_lr", "large LR ends ahead", **arguments)


def test_the_rule_judges_the_values_when_every_premise_holds():
    claim = judged(premises=[claims.Premise.at_least("gate", 99.2, 99.0, "%")])
    assert claim.verdict.label == stats.REPRODUCED
    assert claim.ours == "10.00 ± 0.20 vs 5.00 ± 0.10"


def test_a_failing_premise_makes_the_verdict_precondition_not_met_naming_it():
    gate = claims.Premise.at_least("small LR fits before the anneal", 33.0, 99.0, "%")
    claim = judged(premises=[gate, claims.Premise.at_least("other", 1.0, 0.5)])
    assert claim.verdict.label == stats.PRECONDITION_NOT_MET
    assert claim.verdict.reason == "small LR fits before the anneal: 33% < 99%"


def test_a_claim_as_premise_holds_only_when_reproduced():
    mechanism = judged(values={"large": B, "small": A})  # opposite
    outcome = judged(premises=[claims.Premise.of_claim(mechanism)])
    assert outcome.verdict.label == stats.PRECONDITION_NOT_MET
    assert "large LR ends ahead: opposite" in outcome.verdict.reason
    assert claims.Premise.of_claim(judged()).holds


def test_a_run_that_failed_its_protocol_never_reads_opposite():
    failures = claims.protocol_failures([0.69, 0.6, 0.57], chance_loss=0.5,
                                        events={"noise anneal": False})  # fmt: skip
    assert failures == ["loss ended at 0.57, at or above chance (0.5)", "noise anneal never fired"]
    claim = judged(values={"large": B, "small": A},
                   premises=[claims.Premise.run_protocol("runs follow their protocol", failures)])  # fmt: skip
    assert (
        claim.verdict.label == stats.PRECONDITION_NOT_MET and "never fired" in claim.verdict.reason
    )


def test_protocol_failures_detects_divergence_and_a_loss_that_never_fell():
    assert claims.protocol_failures([2.3, float("nan")]) == ["loss diverged (non-finite)"]
    assert claims.protocol_failures([2.3, 2.4]) == ["loss never fell (2.3 -> 2.4)"]
    assert claims.protocol_failures([2.3, 0.1], chance_loss=2.3, events={"anneal": True}) == []


def test_exploratory_claims_say_so_in_their_label():
    claim = judged(exploratory="calibration length chosen after seeing seed 0")
    assert claim.label == "reproduced (exploratory)"


def test_a_threshold_claim_reads_one_arm():
    claim = judged(values={"patch-only": [97.0, 96.5, 97.5]},
                   rule=claims.at_least("patch-only", 80.0, "%"))  # fmt: skip
    assert claim.verdict.label == stats.REPRODUCED and claim.ours == "97.00 ± 0.50"


def test_missing_values_for_an_arm_fail_clearly():
    with pytest.raises(ValueError, match="no values for small"):
        judged(values={"large": A})


def test_records_round_trip_through_json_and_render_without_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("LRGAP_OUTPUTS", str(tmp_path))
    claim = judged(values={"large": A, "small": [5.0, float("nan"), 4.9]})
    not_run = claims.not_run("large_lr", "CIFAR-100 too", source="survey report, 3.1",
                             paper="71.90 vs 66.35", why="needs the download",
                             rule=claims.difference("large", "small", 1.0))  # fmt: skip
    report.save_claims("large_lr", [claim, not_run])
    records = json.loads((tmp_path / "large_lr" / "claims.json").read_text())
    assert records[0]["values"]["small"][1] is None  # NaN is not JSON
    frame = report.claims_frame(records)
    assert frame["verdict"].tolist() == [stats.INCONCLUSIVE, stats.PRECONDITION_NOT_MET]
    assert frame["why"].iloc[1] == "not run: needs the download"
    assert frame["ours"].iloc[1] == "not run"
    assert frame["paper"].iloc[1] == "71.90 vs 66.35 (survey report, 3.1)"
