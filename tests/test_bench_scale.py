from bot.bench.scale import derived_claims, per_message_medians


def test_per_message_medians_take_each_message_across_passes():
    # 3 passes over 2 messages, in order: pass 1 (m0, m1), pass 2 (m0, m1), pass 3 (m0, m1).
    lat = [1.0, 5.0, 90.0, 4.0, 2.0, 6.0]
    # a spike in one pass of m0 (90 ms) does not reach m0's median
    assert per_message_medians(lat, 2) == [2.0, 5.0]


def test_derived_claims_are_reproducible_and_distinct():
    a, b = derived_claims(10_400), derived_claims(10_400)
    assert a == b
    ids = [c["id"] for c in a]
    assert len(set(ids)) == len(ids)
    # the copies past the first 10,375 differ from the claim they derive from
    assert a[10_375]["statement"] != a[0]["statement"] and a[10_375]["id"].endswith("-v1")
