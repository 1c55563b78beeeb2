from cchc.transform.holiday_calendar import SEED_PATH, holiday_rows, render_csv


def test_committed_seed_is_what_the_generator_writes():
    assert SEED_PATH.read_text(encoding="utf-8") == render_csv(holiday_rows())


def test_tet_and_national_day_are_holidays():
    days = dict(holiday_rows(2025, 2025))
    assert "Tết Nguyên Đán" in days["2025-01-29"]
    assert days["2025-09-02"] == "Quốc khánh"
