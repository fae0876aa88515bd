"""The migrations alone produce the framework's reference data."""

import datetime

import pytest

from rcf.models import PartnerCountry, PriorityArea
from scm_reports.models import SCMCycle

pytestmark = pytest.mark.django_db


def test_exactly_the_six_priority_areas_in_framework_order():
    rows = list(PriorityArea.objects.values_list("code", "name", "name_ko"))
    assert [code for code, _, _ in rows] == [
        "maritime-security",
        "multilateral-exercises",
        "capacity-building",
        "defense-industrial-cooperation",
        "technical-cooperation",
        "information-sharing",
    ]
    assert rows[3][1] == "Defense Exports and Defense Industrial Cooperation"
    assert rows[0][2] == "해양안보"
    assert all(name_ko for _, _, name_ko in rows)


def test_asean_has_eleven_members_with_timor_leste_since_2025_10_26():
    asean = PartnerCountry.objects.filter(group="asean")
    assert set(asean.values_list("iso2", flat=True)) == {
        "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN", "TL",
    }
    timor = asean.get(iso2="TL")
    assert timor.iso3 == "TLS"
    assert timor.member_since == datetime.date(2025, 10, 26)
    assert not timor.is_member_on(datetime.date(2025, 10, 25))
    assert timor.is_member_on(datetime.date(2025, 10, 26))


def test_pacific_island_countries_are_the_island_forum_members():
    assert set(PartnerCountry.objects.filter(group="pacific_islands").values_list("iso2", flat=True)) == {
        "CK", "FJ", "KI", "MH", "FM", "NR", "NU", "PW", "PG", "WS", "SB", "TO", "TV", "VU", "PF", "NC",
    }


def test_australia_new_zealand_and_japan_are_like_minded_partners_not_pacific_islands():
    groups = dict(PartnerCountry.objects.filter(iso2__in=["AU", "NZ", "JP"]).values_list("iso2", "group"))
    assert groups == {"AU": "like_minded", "NZ": "like_minded", "JP": "like_minded"}


def test_scm_cycles_49_to_57_with_their_dates_and_places():
    cycles = {c.number: (c.meeting_date.isoformat(), c.location, c.year) for c in SCMCycle.objects.all()}
    assert cycles == {
        49: ("2017-10-28", "Seoul", 2017),
        50: ("2018-10-31", "Washington", 2018),
        51: ("2019-11-15", "Seoul", 2019),
        52: ("2020-10-14", "Washington", 2020),
        53: ("2021-12-02", "Seoul", 2021),
        54: ("2022-11-03", "Washington", 2022),
        55: ("2023-11-13", "Seoul", 2023),
        56: ("2024-10-30", "Washington", 2024),
        57: ("2025-11-04", "Seoul", 2025),
    }
    assert all(c.readiness_deadline is None for c in SCMCycle.objects.all())
