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


def test_compare_reproduced_when_the_t_interval_clears_zero_and_the_minimum_effect():
    verdict = stats.compare([10.0, 10.2, 9.8], [5.0, 5.1, 4.9], min_effect=1.0, unit=" points")
    assert verdict.label == stats.REPRODUCED
    assert "difference +5" in verdict.reason and "minimum 1 points" in verdict.reason
    low, high = stats.difference_ci([10.0, 10.2, 9.8], [5.0, 5.1, 4.9])
    assert verdict.interval == pytest.approx((low, high)) and verdict.estimate == pytest.approx(5)


def test_compare_whose_interval_contains_zero_is_inconclusive():
    verdict = stats.compare([10.0, 12.0, 8.0], [9.0, 11.0, 7.5], 0.1)
    assert verdict.label == stats.INCONCLUSIVE and "contains zero" in verdict.reason


def test_compare_clear_of_zero_but_below_the_minimum_effect_is_too_small():
    verdict = stats.compare([10.2, 10.21, 10.19], [10.0, 10.01, 9.99], min_effect=1.0)
    assert verdict.label == stats.TOO_SMALL


def test_compare_clear_of_zero_the_other_way_is_opposite_only_beyond_the_minimum_effect():
    assert stats.compare([5.0, 5.1, 4.9], [10.0, 10.2, 9.8], 1.0).label == stats.OPPOSITE
    small = stats.compare([10.0, 10.01, 9.99], [10.2, 10.21, 10.19], 1.0)
    assert small.label == stats.TOO_SMALL and "other way" in small.reason


@pytest.mark.parametrize("n", [1, 2])
def test_fewer_than_three_seeds_is_inconclusive_whatever_the_gap(n):
    verdict = stats.compare([90.0, 91.0][:n], [10.0, 11.0][:n], 1.0)
    assert verdict.label == stats.INCONCLUSIVE and "fewer than 3" in verdict.reason
    assert stats.at_least([95.0, 96.0][:n], 80.0).label == stats.INCONCLUSIVE


def test_a_failed_precondition_replaces_the_verdict():
    unmet = stats.precondition(False, "small LR reached 62% train accuracy, the claim needs 99%")
    verdict = stats.compare([10.0, 10.2, 9.8], [5.0, 5.1, 4.9], 1.0, unmet=unmet)
    assert verdict.label == stats.PRECONDITION_NOT_MET and "62%" in verdict.reason
    assert stats.precondition(True, "unused") is None
    assert stats.at_least([95.0, 96.0, 97.0], 80.0, unmet=unmet).label == stats.PRECONDITION_NOT_MET


def test_threshold_claim_is_judged_on_the_interval_not_the_point():
    """10.2% patch-only accuracy against chance is no memorisation (needs >= 80%)."""
    assert stats.at_least([10.2, 10.0, 10.4], 80.0).label == stats.NOT_REPRODUCED
    assert stats.at_least([85.0, 86.0, 84.0], 80.0).label == stats.REPRODUCED
    assert stats.at_least([81.0, 70.0, 92.0], 80.0).label == stats.INCONCLUSIVE
    # mean 82 clears 80 as a point, but t(2) * s.e. = 4.97 puts the interval across it
    assert stats.at_least([80.0, 82.0, 84.0], 80.0).label == stats.INCONCLUSIVE


def test_at_most_mirrors_at_least():
    assert stats.at_most([11.0, 12.0, 10.0], 30.0).label == stats.REPRODUCED
    assert stats.at_most([60.0, 62.0, 61.0], 30.0).label == stats.NOT_REPRODUCED
    verdict = stats.at_most([29.0, 28.0, 30.5], 30.0)
    assert verdict.label == stats.INCONCLUSIVE and "straddles" in verdict.reason
    assert "mean 29" in verdict.reason and "at most 30" in verdict.reason


def test_size_vs_paper_within_a_factor_of_two_is_similar():
    assert stats.size_vs_paper(4.0, 5.5).startswith("similar size")
    assert stats.size_vs_paper(20.0, 5.5).startswith("larger")
    assert stats.size_vs_paper(1.0, 5.5).startswith("smaller")
    assert stats.size_vs_paper(-1.0, 5.5) == "different sign"


def test_size_vs_paper_refuses_accuracy_levels_far_from_the_papers():
    text = stats.size_vs_paper(5.57, 5.48, ours_levels=(66.6, 61.0), paper_levels=(90.4, 84.9))
    assert text == "not comparable (ours 61–67%, paper 85–90%)"
    near = stats.size_vs_paper(5.0, 5.48, ours_levels=(88.0, 83.0), paper_levels=(90.4, 84.9))
    assert near.startswith("similar size")


def test_verdict_prints_label_and_reason():
    assert str(stats.Verdict("reproduced", "why")) == "reproduced (why)"
    assert str(stats.Verdict("reproduced", "")) == "reproduced"


def test_two_standard_errors_is_no_longer_enough_with_three_seeds():
    """Beyond 2 s.e. with 3 seeds is p < 0.18; the 95% t-interval needs 4.3 s.e."""
    a, b = [1.2, 2.2, 3.2], [-0.5, 0.5, 1.5]  # difference 1.7, s.e. 0.816: 2.08 s.e.
    assert stats.compare(a, b, 0.1).label == stats.INCONCLUSIVE
    assert stats.compare([x + 2.0 for x in a], b, 0.1).label == stats.REPRODUCED  # 4.5 s.e.
