"""The verdict rules every chapter uses, including their edge cases."""

import math

import numpy as np
import pytest

from lrgap_nb import stats


def test_mean_std_prints_a_single_seed_alone_and_uses_the_sample_std():
    assert stats.mean_std([47.5]) == "47.5"
    assert stats.mean_std([1.0, 2.0, 3.0], digits=2) == "2.00 ± 1.00"


def test_standard_error_and_t_interval_match_the_closed_form():
    values = [1.0, 2.0, 3.0, 4.0]
    se = np.std(values, ddof=1) / 2
    assert stats.standard_error(values) == pytest.approx(se)
    low, high = stats.mean_ci(values)
    assert (high - low) / 2 == pytest.approx(3.182446305 * se, rel=1e-6)  # t(0.975, 3)
    assert math.isnan(stats.standard_error([1.0]))


def test_difference_ci_paired_uses_the_differences():
    a, b = [1.0, 2.0, 3.0], [0.5, 1.6, 2.4]
    low, high = stats.difference_ci(a, b, paired=True)
    d = np.subtract(a, b)
    half = 4.302652730 * d.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert (low, high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_proportion_ci_is_clopper_pearson():
    low, high = stats.proportion_ci(0, 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 10))


def test_compare_reproduced_beyond_two_se_and_the_minimum_effect():
    verdict = stats.compare([10.0, 10.2, 9.8], [5.0, 5.1, 4.9], min_effect=1.0, unit=" points")
    assert verdict.label == stats.REPRODUCED
    assert "difference +5" in verdict.reason and "minimum 1 points" in verdict.reason


def test_compare_within_two_se_is_inconclusive():
    assert stats.compare([10.0, 12.0, 8.0], [9.0, 11.0, 7.5], 0.1).label == stats.INCONCLUSIVE


def test_compare_significant_but_below_the_minimum_effect_is_too_small():
    verdict = stats.compare([10.2, 10.21, 10.19], [10.0, 10.01, 9.99], min_effect=1.0)
    assert verdict.label == stats.TOO_SMALL


def test_compare_significant_the_other_way_is_opposite():
    assert stats.compare([5.0, 5.1, 4.9], [10.0, 10.2, 9.8], 1.0).label == stats.OPPOSITE


def test_compare_with_one_seed_is_inconclusive_whatever_the_gap():
    verdict = stats.compare([90.0], [10.0], 1.0)
    assert verdict.label == stats.INCONCLUSIVE and "one seed" in verdict.reason


def test_a_failed_precondition_replaces_the_verdict():
    unmet = stats.precondition(False, "small LR reached 62% train accuracy, the claim needs 99%")
    verdict = stats.compare([10.0, 10.2, 9.8], [5.0, 5.1, 4.9], 1.0, unmet=unmet)
    assert verdict.label == stats.PRECONDITION_NOT_MET and "62%" in verdict.reason
    assert stats.precondition(True, "unused") is None
    assert stats.at_least([95.0, 96.0], 80.0, unmet=unmet).label == stats.PRECONDITION_NOT_MET


def test_threshold_claim_near_chance_is_never_reproduced():
    """10.2% patch-only accuracy against chance is no memorisation (needs >= 80%)."""
    assert stats.at_least([10.2, 10.0, 10.4], 80.0).label == stats.NOT_REPRODUCED
    assert stats.at_least([85.0, 86.0, 84.0], 80.0).label == stats.REPRODUCED
    assert stats.at_least([81.0, 70.0, 92.0], 80.0).label == stats.INCONCLUSIVE


def test_at_most_mirrors_at_least():
    assert stats.at_most([11.0, 12.0, 10.0], 30.0).label == stats.REPRODUCED
    assert stats.at_most([60.0, 62.0, 61.0], 30.0).label == stats.NOT_REPRODUCED
    verdict = stats.at_most([29.0], 30.0)
    assert verdict.label == stats.REPRODUCED and "one seed" in verdict.reason
    assert "mean 29" in verdict.reason and "at most 30" in verdict.reason


def test_size_vs_paper_within_a_factor_of_two_is_similar():
    assert stats.size_vs_paper(4.0, 5.5).startswith("similar size")
    assert stats.size_vs_paper(20.0, 5.5).startswith("larger")
    assert stats.size_vs_paper(1.0, 5.5).startswith("smaller")
    assert stats.size_vs_paper(-1.0, 5.5) == "different sign"


def test_verdict_prints_label_and_reason():
    assert str(stats.Verdict("reproduced", "why")) == "reproduced (why)"
    assert str(stats.Verdict("reproduced", "")) == "reproduced"


def test_between_one_and_two_standard_errors_is_still_inconclusive():
    a, b = [1.0, 2.0, 3.0], [-0.5, 0.5, 1.5]  # difference 1.5, s.e. 0.816: 1.84 s.e.
    assert stats.compare(a, b, 0.1).label == stats.INCONCLUSIVE
    assert stats.compare([x + 0.2 for x in a], b, 0.1).label == stats.REPRODUCED  # 2.08 s.e.
