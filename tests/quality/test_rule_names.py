"""Every data-quality rule reads in Vietnamese in the official files: a short name, a
description and the indicators it distorts, for every rule of every committed suite."""

from __future__ import annotations

from cchc.exports import rule_impact
from tests.exports.official_files import english_words


def test_every_suite_rule_has_a_vietnamese_name_description_and_impact():
    rules = rule_impact.suite_rules()
    assert len(rules) >= 40  # every suite read
    for rule_id, meta in rules.items():
        assert rule_id in rule_impact.RULE_IMPACT, f"{rule_id}: no Vietnamese name or impact"
        name, impacts = rule_impact.RULE_IMPACT[rule_id]
        assert impacts, rule_id
        assert rule_impact.distorts(rule_id) != rule_impact.UNMAPPED
        assert meta.get("description_vi"), f"{rule_id}: no description_vi in its suite"
        assert rule_impact.describe(rule_id) == meta["description_vi"]
        assert rule_impact.severity_vi(meta["severity"]) in ("Lỗi cấu trúc", "Lỗi nhập liệu")
        for text in (name, rule_impact.describe(rule_id), rule_impact.distorts(rule_id)):
            assert not english_words(text), (rule_id, text, english_words(text))


def test_an_unknown_rule_is_still_said_in_vietnamese():
    assert rule_impact.distorts("a_rule_added_tomorrow") == rule_impact.UNMAPPED
    assert not english_words(rule_impact.UNMAPPED)
    assert rule_impact.name("a_rule_added_tomorrow").startswith("Quy tắc mới")
