"""The framework's reference data: the six priority areas and the partner
countries (sources in ../shared/DOMAIN.md). Editable afterwards; re-running
only fills in what is missing."""

from django.db import migrations

PRIORITY_AREAS = [
    # code, name, name_ko, description
    ("maritime-security", "Maritime Security", "해양안보",
     "Maritime domain awareness, law enforcement at sea and the security of sea lines of communication."),
    ("multilateral-exercises", "Multilateral Exercises", "다자 연합훈련",
     "Exercises with regional partners in which both allies take part."),
    ("capacity-building", "Capacity Building", "역량 강화",
     "Training, education and equipment that build partners' own defence capacity."),
    ("defense-industrial-cooperation", "Defense Exports and Defense Industrial Cooperation",
     "방산 수출 및 방위산업 협력",
     "Defence exports, co-production, MRO and supply-chain resilience with regional partners."),
    ("technical-cooperation", "Technical Cooperation (e.g., cyber security and emerging capabilities)",
     "기술 협력 (사이버 안보 및 신기술 등)",
     "Cyber security, emerging capabilities and science and technology cooperation."),
    ("information-sharing", "Information Sharing", "정보 공유",
     "Sharing information with and among regional partners."),
]

ASEAN = [
    # iso2, iso3, name, name_ko, member_since
    ("ID", "IDN", "Indonesia", "인도네시아", "1967-08-08"),
    ("MY", "MYS", "Malaysia", "말레이시아", "1967-08-08"),
    ("PH", "PHL", "Philippines", "필리핀", "1967-08-08"),
    ("SG", "SGP", "Singapore", "싱가포르", "1967-08-08"),
    ("TH", "THA", "Thailand", "태국", "1967-08-08"),
    ("BN", "BRN", "Brunei Darussalam", "브루나이", "1984-01-07"),
    ("VN", "VNM", "Viet Nam", "베트남", "1995-07-28"),
    ("LA", "LAO", "Lao PDR", "라오스", "1997-07-23"),
    ("MM", "MMR", "Myanmar", "미얀마", "1997-07-23"),
    ("KH", "KHM", "Cambodia", "캄보디아", "1999-04-30"),
    # Admitted at the 47th ASEAN Summit, Kuala Lumpur.
    ("TL", "TLS", "Timor-Leste", "동티모르", "2025-10-26"),
]

# The island members of the Pacific Islands Forum (the framework does not
# define "Pacific Island countries"; see DOMAIN.md).
PACIFIC_ISLANDS = [
    ("CK", "COK", "Cook Islands", "쿡 제도"),
    ("FJ", "FJI", "Fiji", "피지"),
    ("KI", "KIR", "Kiribati", "키리바시"),
    ("MH", "MHL", "Marshall Islands", "마셜 제도"),
    ("FM", "FSM", "Federated States of Micronesia", "미크로네시아 연방"),
    ("NR", "NRU", "Nauru", "나우루"),
    ("NU", "NIU", "Niue", "니우에"),
    ("PW", "PLW", "Palau", "팔라우"),
    ("PG", "PNG", "Papua New Guinea", "파푸아뉴기니"),
    ("WS", "WSM", "Samoa", "사모아"),
    ("SB", "SLB", "Solomon Islands", "솔로몬 제도"),
    ("TO", "TON", "Tonga", "통가"),
    ("TV", "TUV", "Tuvalu", "투발루"),
    ("VU", "VUT", "Vanuatu", "바누아투"),
    ("PF", "PYF", "French Polynesia", "프랑스령 폴리네시아"),
    ("NC", "NCL", "New Caledonia", "뉴칼레도니아"),
]

LIKE_MINDED = [
    ("JP", "JPN", "Japan", "일본"),
    ("AU", "AUS", "Australia", "호주"),
    ("NZ", "NZL", "New Zealand", "뉴질랜드"),
    ("IN", "IND", "India", "인도"),
    ("CA", "CAN", "Canada", "캐나다"),
    ("GB", "GBR", "United Kingdom", "영국"),
    ("FR", "FRA", "France", "프랑스"),
]


def seed(apps, schema_editor):
    apps.get_model("rcf", "SyncClock").objects.get_or_create(pk=1)
    PriorityArea = apps.get_model("rcf", "PriorityArea")
    PartnerCountry = apps.get_model("rcf", "PartnerCountry")
    for order, (code, name, name_ko, description) in enumerate(PRIORITY_AREAS, start=1):
        PriorityArea.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_ko": name_ko, "description": description, "sort_order": order},
        )
    for iso2, iso3, name, name_ko, since in ASEAN:
        PartnerCountry.objects.get_or_create(
            iso2=iso2,
            defaults={"iso3": iso3, "name": name, "name_ko": name_ko, "group": "asean", "member_since": since},
        )
    for group, rows in (("pacific_islands", PACIFIC_ISLANDS), ("like_minded", LIKE_MINDED)):
        for iso2, iso3, name, name_ko in rows:
            PartnerCountry.objects.get_or_create(
                iso2=iso2, defaults={"iso3": iso3, "name": name, "name_ko": name_ko, "group": group}
            )


class Migration(migrations.Migration):
    dependencies = [("rcf", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
