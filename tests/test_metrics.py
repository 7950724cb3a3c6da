import pytest

from benchmarks.metrics import average_precision, evaluate, format_run, read_run, reciprocal_rank, recall


def test_average_precision_hand_computed():
    # relevant at ranks 2 and 4 of 2 relevant: (1/2 + 2/4) / 2 = 0.5
    assert average_precision(["a", "r1", "b", "r2"], {"r1", "r2"}, 5) == pytest.approx(0.5)
    # cut at 3: only r1 counts: (1/2) / 2
    assert average_precision(["a", "r1", "b", "r2"], {"r1", "r2"}, 3) == pytest.approx(0.25)
    assert average_precision(["r"], {"r"}, 1) == 1.0
    assert average_precision(["a", "r"], {"r"}, 1) == 0.0


def test_reciprocal_rank_and_recall():
    assert reciprocal_rank(["a", "b", "r"], {"r"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], {"r"}) == 0.0
    assert recall(["a", "r1"], {"r1", "r2"}, 5) == 0.5


def test_evaluate_means_over_qrels_including_missing_queries():
    qrels = {"q1": {"d1"}, "q2": {"d2"}, "q3": {"d3"}}
    run = {"q1": ["d1", "x"], "q2": ["x", "d2"]}  # q3 missing: scores 0
    m = evaluate(run, qrels)
    assert m["MAP@1"] == pytest.approx(1 / 3)
    assert m["MAP@5"] == pytest.approx((1 + 0.5) / 3)
    assert m["MRR"] == pytest.approx((1 + 0.5) / 3)
    assert m["Recall@5"] == pytest.approx(2 / 3)


def test_run_file_format_round_trip(tmp_path):
    run = {"q2": [("d9", 0.9), ("d1", 0.5)], "q1": [(f"d{i}", 1 - i / 10) for i in range(7)]}
    lines = list(format_run(run, "tag"))
    assert lines[0] == "q1 Q0 d0 1 1.000000 tag"
    assert [ln.split()[3] for ln in lines if ln.startswith("q1 ")] == ["1", "2", "3", "4", "5"]  # ranks 1..5 only
    assert all(len(ln.split()) == 6 for ln in lines)
    path = tmp_path / "run.txt"
    path.write_text("\n".join(lines) + "\n")
    assert read_run(path) == {"q1": ["d0", "d1", "d2", "d3", "d4"], "q2": ["d9", "d1"]}


def test_percentile_nearest_rank():
    from benchmarks.metrics import percentile

    assert percentile([], 99) == 0.0
    assert percentile([5, 1, 3], 50) == 3
    assert percentile(list(range(101)), 99) == 99
    assert percentile([1.0, 2.0], 100) == 2.0
