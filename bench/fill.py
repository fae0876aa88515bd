"""The benchmarks' data: a realistic shape, filled fast with COPY.

What a database that has been used for a while looks like, in proportion to
``projects``:

* hundreds of organisations (U.S. and ROK government, partner governments,
  industry) and of POCs on both sides, leads among them, with their priority
  areas; a few of each soft-deleted;
* projects written in many transactions (batches committed one by one, so
  their ``sync_txid`` stamps differ, as the feed sees them), each moved
  through its lifecycle: a ``ProjectTransition`` row per step and a
  django-simple-history row for the creation, every step, an edit and a
  soft delete, with the many-to-many snapshot simple-history keeps for each;
* every many-to-many table of a project (partner countries, other priority
  areas, industry partners, like-minded partners complemented) and of an
  engagement (projects, participants, industry organisations, countries);
* engagements, action items, resource lines, progress updates, milestones and
  SCM presentations in proportion, each with its creation history row;
* about 3 % of projects (and some of everything else) soft-deleted.

Rows are written with explicit ids (the sequences are moved past them at the
end), so a batch can refer to its own rows without a round trip.
"""

from __future__ import annotations

import bisect
import datetime
import queue
import random
import threading
import time

LAUNCH = datetime.date(2024, 10, 30)
BATCH = 2_000  # projects per transaction

WORDS = ("maritime", "domain", "awareness", "cyber", "resilience", "supply", "chain", "energy", "transition",
         "health", "security", "disaster", "relief", "training", "exercise", "coast", "guard", "capacity",
         "building", "digital", "infrastructure", "semiconductor", "clean", "water", "fisheries", "port",
         "logistics", "space", "satellite", "humanitarian", "demining", "peacekeeping", "undersea", "cable")
KO_WORDS = ("해양", "영역", "인식", "사이버", "회복력", "공급망", "에너지", "보건", "안보", "재난", "구호", "훈련",
            "해안경비", "역량", "디지털", "기반시설", "반도체", "수자원", "항만", "물류", "우주", "위성", "인도적")
STATUS_PATH = ("concept", "under_review", "prioritized", "ready", "presented", "in_implementation", "completed")
READY_STATUSES = ("ready", "presented", "in_implementation", "completed")
NOT_READY_STATUSES = ("concept", "under_review", "prioritized", "on_hold", "withdrawn")

PROJECT_COLUMNS = ("id", "version", "created_at", "updated_at", "deleted_at", "title", "summary", "channel",
                   "lead_side", "status", "priority", "complementary_efforts", "target_year", "ready_on",
                   "start_date", "end_date", "external_id", "created_by_id", "priority_area_id", "rok_lead_poc_id",
                   "updated_by_id", "us_lead_poc_id", "title_ko", "summary_ko")
HISTORY_EXTRA = ("sync_txid", "history_id", "history_date", "history_change_reason", "history_type",
                 "history_user_id")
PROJECT_M2M = {  # field -> (through table, target column)
    "partner_countries": ("projects_cooperativeproject_partner_countries", "partnercountry_id"),
    "additional_areas": ("projects_cooperativeproject_additional_areas", "priorityarea_id"),
    "industry_partners": ("projects_cooperativeproject_industry_partners", "organization_id"),
    "complemented_partners": ("projects_cooperativeproject_complemented_partners", "partnercountry_id"),
}
ENGAGEMENT_M2M = {
    "projects": ("projects_engagement_projects", "cooperativeproject_id"),
    "participants": ("projects_engagement_participants", "pointofcontact_id"),
    "industry_organizations": ("projects_engagement_industry_organizations", "organization_id"),
    "partner_countries": ("projects_engagement_partner_countries", "partnercountry_id"),
}
TABLES = {
    "contacts_organization": ("id", "version", "created_at", "updated_at", "deleted_at", "name", "name_ko", "side",
                              "website", "notes", "country_id"),
    "contacts_pointofcontact": ("id", "version", "created_at", "updated_at", "deleted_at", "full_name",
                                "full_name_ko", "title", "side", "email", "phone", "is_lead", "active",
                                "organization_id", "preferred_language", "weekly_digest"),
    "projects_cooperativeproject": PROJECT_COLUMNS,
    "projects_projecttransition": ("project_id", "from_status", "to_status", "at", "by_id", "note", "ready_on"),
    "projects_engagement": ("id", "version", "created_at", "updated_at", "deleted_at", "date", "kind", "summary",
                            "location", "created_by_id", "external_id", "other_participants", "updated_by_id"),
    "projects_actionitem": ("id", "version", "created_at", "updated_at", "deleted_at", "title", "description",
                            "due_on", "status", "done_on", "external_id", "created_by_id", "engagement_id",
                            "owner_id", "project_id", "updated_by_id"),
    "projects_resourceline": ("id", "version", "created_at", "updated_at", "deleted_at", "side", "source",
                              "fiscal_year", "kind", "amount", "currency", "note", "external_id", "created_by_id",
                              "project_id", "updated_by_id"),
    "projects_progressupdate": ("id", "version", "created_at", "updated_at", "deleted_at", "date", "health",
                                "narrative", "next_steps", "external_id", "created_by_id", "project_id",
                                "updated_by_id"),
    "projects_milestone": ("id", "version", "created_at", "updated_at", "deleted_at", "title", "due_on", "done_on",
                           "external_id", "created_by_id", "project_id", "updated_by_id"),
    "scm_reports_scmpresentation": ("id", "version", "created_at", "updated_at", "deleted_at", "outcome", "note",
                                    "recorded_at", "project_id", "recorded_by_id", "scm_cycle_id"),
}
# Tracked tables with a simple-history table: <app>_historical<model>.
HISTORY_TABLE = {
    "contacts_organization": "contacts_historicalorganization",
    "contacts_pointofcontact": "contacts_historicalpointofcontact",
    "projects_cooperativeproject": "projects_historicalcooperativeproject",
    "projects_engagement": "projects_historicalengagement",
    "projects_actionitem": "projects_historicalactionitem",
    "projects_resourceline": "projects_historicalresourceline",
    "projects_progressupdate": "projects_historicalprogressupdate",
    "projects_milestone": "projects_historicalmilestone",
    "scm_reports_scmpresentation": "scm_reports_historicalscmpresentation",
}


def _history_m2m_table(table: str) -> str:
    """projects_cooperativeproject_partner_countries -> projects_historicalcooperativeproject_partner_countries."""
    app, rest = table.split("_", 1)
    return f"{app}_historical{rest}"


class Rows:
    """Rows waiting for COPY, per table, with the id counters of every table."""

    def __init__(self, conn, writer_conn):
        self.conn = conn
        self.pending: dict[str, tuple[tuple, list]] = {}
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        # COPY runs in a thread on its own connection while the next batch is made (psycopg
        # releases the GIL while it waits for the server): both cores busy.
        self.writer_conn = writer_conn
        self.batches: queue.Queue = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.writer.start()

    def new_id(self, table: str) -> int:
        """The next free id of ``table`` (``table:column`` for a key other than ``id``)."""
        value = self.next_id.get(table)
        if value is None:
            name, _, column = table.partition(":")
            value = self.conn.execute(f"SELECT COALESCE(max({column or 'id'}), 0) + 1 FROM {name}").fetchone()[0]
        self.next_id[table] = value + 1
        return value

    def add(self, table: str, columns: tuple, row: tuple) -> None:
        self.pending.setdefault(table, (columns, []))[1].append(row)

    def tracked(self, table: str, row: tuple, history: list[tuple[datetime.datetime, str, dict]], user) -> int:
        """A tracked record (``row`` in TABLES[table] order) and its history rows:
        ``(date, type, changed columns)`` each. Returns the last history id."""
        columns = TABLES[table]
        self.add(table, columns, row)
        history_table = HISTORY_TABLE[table]
        history_id = None
        for at, kind, changes in history:
            values = dict(zip(columns, row, strict=True))
            values.update(changes)
            history_id = self.new_id(f"{history_table}:history_id")
            self.add(history_table, columns + HISTORY_EXTRA,
                     tuple(values[c] for c in columns) + (0, history_id, at, None, kind, user))
        return history_id

    def m2m(self, through: str, owner_column: str, owner: int, target_column: str, targets, history_ids) -> None:
        """Through-table rows, and simple-history's snapshot of them for each history row."""
        history_table = _history_m2m_table(through)
        for target in targets:
            row_id = self.new_id(through)
            self.add(through, ("id", owner_column, target_column), (row_id, owner, target))
            for history_id in history_ids:
                self.add(history_table, ("m2m_history_id", "id", owner_column, target_column, "history_id"),
                         (self.new_id(f"{history_table}:m2m_history_id"), row_id, owner, target, history_id))

    def flush(self) -> None:
        """Hand the pending rows to the writer: one transaction per call."""
        if self.failure:
            raise self.failure
        for table, (_columns, rows) in self.pending.items():
            self.counts[table] = self.counts.get(table, 0) + len(rows)
        self.batches.put(self.pending)
        self.pending = {}

    def _write(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.failure:
                continue
            try:
                with self.writer_conn.cursor() as cur:
                    for table, (columns, rows) in batch.items():
                        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                self.writer_conn.commit()
            except BaseException as exc:  # noqa: BLE001 - raised again in the filling thread
                self.failure = exc

    def finish(self) -> None:
        self.batches.put(None)
        self.writer.join()
        if self.failure:
            raise self.failure

    def move_sequences(self) -> None:
        """Past the explicit ids: later inserts by the app must not collide."""
        self.finish()
        for table in self.counts:
            sequences = self.conn.execute(
                "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", [table, table]).fetchall()
            for column, seq in sequences:
                if seq:
                    self.conn.execute(f"SELECT setval(%s, (SELECT COALESCE(max({column}), 0) + 1 FROM {table}), "
                                      "false)", [seq])
        self.conn.commit()


_POOLS: dict = {}


def _text(rng: random.Random, words, n: int) -> str:
    """Random text of ``n`` words; long texts come from a pool of 4,096 (making
    each anew would cost more than the database's work)."""
    if n <= 8:
        return " ".join(rng.choices(words, k=n))
    pool = _POOLS.get((words, n))
    if pool is None:
        pool = _POOLS[(words, n)] = [" ".join(rng.choices(words, k=n)) for _ in range(4096)]
    return pool[rng.getrandbits(12)]


def fill(conn, writer_conn, *, projects: int, years: int, first_year: int, seed: int = 42,
         progress=None) -> dict[str, int]:
    """Fill a migrated database through ``conn`` (psycopg). Returns rows per table."""
    from django.contrib.auth import get_user_model

    from rcf.models import PartnerCountry, PriorityArea
    from scm_reports.models import SCMCycle

    rng = random.Random(seed)
    now = datetime.datetime.now(datetime.UTC)
    for year in range(first_year + 1, first_year + years):
        SCMCycle.objects.get_or_create(
            year=year,
            defaults={"number": 57 + year - first_year, "meeting_date": datetime.date(year, 10, 15) +
                      datetime.timedelta(days=rng.randrange(0, 50)), "location": "Seoul"},
        )
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [user_model(username=f"bench-staff-{i}", email=f"bench-staff-{i}@example.org") for i in range(40)],
        ignore_conflicts=True)
    users = list(user_model.objects.filter(username__startswith="bench-staff-").values_list("pk", flat=True))
    areas = list(PriorityArea.objects.values_list("pk", flat=True))
    countries = dict(PartnerCountry.objects.values_list("pk", "group"))
    focus = [pk for pk, group in countries.items() if group in ("asean", "pacific_islands")]
    like_minded = [pk for pk, group in countries.items() if group == "like_minded"] or focus
    cycles = sorted((c.readiness_deadline or c.meeting_date - datetime.timedelta(days=1), c.pk)
                    for c in SCMCycle.objects.filter(year__gte=first_year))
    deadlines = [d for d, _ in cycles]

    rows = Rows(conn, writer_conn)
    two_years = datetime.timedelta(days=730)

    def stamp(fraction: float) -> datetime.datetime:
        return now - two_years * (1 - fraction)

    # Organisations and POCs: hundreds of each, on both sides.
    orgs = {"us": [], "rok": [], "partner": [], "industry": []}
    n_orgs = {"us": 40, "rok": 40, "partner": 60, "industry": max(200, projects // 500)}
    for side, n in n_orgs.items():
        for i in range(n):
            pk = rows.new_id("contacts_organization")
            deleted = stamp(0.9) if rng.random() < 0.03 else None
            at = stamp(rng.random() * 0.2)
            rows.tracked("contacts_organization", (
                pk, 1 + (deleted is not None), at, deleted or at, deleted, f"Bench {side} organisation {i}",
                f"벤치 {side} 기관 {i}" if rng.random() < 0.5 else "", side,
                f"https://org{i}.{side}.example.org", "", rng.choice(focus) if side == "partner" else None,
            ), [(at, "+", {"version": 1, "deleted_at": None})], rng.choice(users))
            if deleted is None:
                orgs[side].append(pk)
    pocs = {"us": [], "rok": []}
    leads = {"us": [], "rok": []}
    n_pocs = max(400, projects // 250)
    for side in ("us", "rok"):
        for i in range(n_pocs):
            pk = rows.new_id("contacts_pointofcontact")
            is_lead = i % 5 == 0
            deleted = stamp(0.9) if (not is_lead and rng.random() < 0.03) else None
            at = stamp(rng.random() * 0.2)
            history = rows.tracked("contacts_pointofcontact", (
                pk, 1 + (deleted is not None), at, deleted or at, deleted, f"Bench {side} POC {i}",
                f"벤치 담당자 {i}" if side == "rok" else "", "Officer", side,
                f"bench.{side}.{i}@example.org", "", is_lead, True, rng.choice(orgs[side]),
                "ko" if side == "rok" and rng.random() < 0.7 else "en", True,
            ), [(at, "+", {"version": 1, "deleted_at": None})], rng.choice(users))
            rows.m2m("contacts_pointofcontact_priority_areas", "pointofcontact_id", pk, "priorityarea_id",
                     rng.sample(areas, rng.choice((1, 1, 2))), [history])
            if deleted is None:
                pocs[side].append(pk)
                if is_lead:
                    leads[side].append(pk)
    rows.flush()
    everyone = pocs["us"] + pocs["rok"]

    started = time.perf_counter()
    # Indexes that enforce nothing are dropped for the load and built again after it (as pg_restore
    # does): the trigram GIN indexes above all cost more row by row than built once.
    through = [t for t, _ in (*PROJECT_M2M.values(), *ENGAGEMENT_M2M.values())]
    indexes = _drop_plain_indexes(conn, [*TABLES, *HISTORY_TABLE.values(), *through,
                                         *(_history_m2m_table(t) for t in through)])
    for batch_start in range(0, projects, BATCH):
        batch = []
        for i in range(batch_start, min(batch_start + BATCH, projects)):
            batch.append(_project(rows, rng, i, projects, stamp, users, areas, focus, like_minded, orgs, leads,
                                  cycles, deadlines, now))
        _engagements_and_actions(rows, rng, batch, stamp, users, everyone, orgs, focus, now)
        rows.flush()
        if progress and (batch_start // BATCH) % 50 == 49:
            done = batch_start + BATCH
            progress(f"  … {done:,} projects in {time.perf_counter() - started:.0f} s")
    rows.move_sequences()
    if indexes:
        if progress:
            progress(f"  … {projects:,} projects in {time.perf_counter() - started:.0f} s; building "
                     f"{len(indexes)} indexes")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for definition in indexes:
            conn.execute(definition)
        conn.commit()
    return dict(rows.counts)


def _drop_plain_indexes(conn, tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint (not primary, not
    unique); returns their definitions, to create them again."""
    found = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [tables]).fetchall()
    for name, _definition in found:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    return [definition for _name, definition in found]


def _project(rows, rng, i, projects, stamp, users, areas, focus, like_minded, orgs, leads, cycles, deadlines, now):
    """One project, its lifecycle and history, its many-to-many rows and its
    resource lines, progress, milestones and presentation. Returns (id, status,
    deleted)."""
    pk = rows.new_id("projects_cooperativeproject")
    ready = rng.random() < 0.5
    status = rng.choice(READY_STATUSES if ready else NOT_READY_STATUSES)
    span = (deadlines[-1] - LAUNCH).days if deadlines else 3650
    ready_on = LAUNCH + datetime.timedelta(days=rng.randrange(span)) if ready else None
    deleted = now - datetime.timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.03 else None
    created = stamp(i / projects)
    creator = rng.choice(users)
    # The lifecycle: the path up to the status (on hold / withdrawn from an early stage).
    if status in STATUS_PATH:
        path = list(STATUS_PATH[:STATUS_PATH.index(status) + 1])
    else:
        path = list(STATUS_PATH[:rng.randrange(1, 4)]) + [status]
    priority = rng.randint(1, 5) if (ready or status == "prioritized" or
                                     (status in ("on_hold", "withdrawn") and "prioritized" in path)) else None
    steps = []  # (at, to_status, version)
    at = created
    for to in path[1:]:
        at = at + datetime.timedelta(hours=rng.randrange(1, 24 * 30))
        steps.append((min(at, now), to))
    edited = rng.random() < 0.3
    version = 1 + len(steps) + edited + (deleted is not None)
    updated = max([created] + [s[0] for s in steps] + ([deleted] if deleted else []))
    implementing = status in ("in_implementation", "completed")
    start_date = (ready_on or created.date()) + datetime.timedelta(days=30) if implementing else None
    words = rng.randrange(3, 7)
    title = f"{_text(rng, WORDS, words).capitalize()} {i}"
    row = (
        pk, version, created, updated, deleted, title,
        f"{_text(rng, WORDS, 30)}.\n{_text(rng, WORDS, 20)}.", rng.choice(("", "", "Ministerial", "Working group")),
        rng.choice(("us", "rok", "joint")), status, priority, _text(rng, WORDS, 10) if rng.random() < 0.3 else "",
        ready_on.year if ready_on else rng.choice((None, 2026, 2027)), ready_on, start_date,
        start_date + datetime.timedelta(days=rng.randrange(90, 1000)) if start_date else None,
        f"bench-{i}" if rng.random() < 0.5 else "", creator, rng.choice(areas), rng.choice(leads["rok"]),
        rng.choice(users), rng.choice(leads["us"]),
        f"{_text(rng, KO_WORDS, words)} {i}" if rng.random() < 0.6 else "",
        _text(rng, KO_WORDS, 25) if rng.random() < 0.4 else "",
    )
    history = [(created, "+", {"version": 1, "status": "concept", "priority": None, "ready_on": None,
                               "deleted_at": None, "updated_at": created})]
    current = "concept"
    for n, (step_at, to) in enumerate(steps, start=2):
        rows.add("projects_projecttransition", TABLES["projects_projecttransition"], (
            pk, current, to, step_at, rng.choice(users), "", ready_on if to == "ready" else None))
        after_ready = STATUS_PATH.index(to) >= 3 if to in STATUS_PATH else ready_on is not None
        history.append((step_at, "~", {"version": n, "status": to, "deleted_at": None, "updated_at": step_at,
                                       "ready_on": ready_on if after_ready else None,
                                       "priority": priority if to != "under_review" else None}))
        current = to
    if edited:
        history.append((updated if not deleted else steps[-1][0] if steps else created, "~",
                        {"version": 1 + len(steps) + 1, "deleted_at": None}))
    if deleted:
        history.append((deleted, "~", {}))
    history_ids = []
    for entry in history:  # one history id per entry; the m2m snapshot goes with each
        history_ids.append(rows.tracked("projects_cooperativeproject", row, [entry], creator)
                           if not history_ids else _history_only(rows, row, entry, creator))
    m2m = {
        "partner_countries": rng.sample(focus, rng.choice((1, 1, 1, 2, 2, 3))),
        "additional_areas": rng.sample([a for a in areas if a != row[18]], rng.choice((0, 0, 1, 2))),
        "industry_partners": rng.sample(orgs["industry"], rng.choice((0, 0, 0, 1, 2))),
        "complemented_partners": rng.sample(like_minded, rng.choice((0, 0, 0, 0, 1, 2))),
    }
    for field, targets in m2m.items():
        through, column = PROJECT_M2M[field]
        rows.m2m(through, "cooperativeproject_id", pk, column, targets, history_ids)
    # Resources, progress and milestones for projects that got that far; a presentation once presented.
    if status in READY_STATUSES or status == "prioritized":
        for _ in range(rng.choice((1, 1, 2, 3))):
            line = rows.new_id("projects_resourceline")
            rows.tracked("projects_resourceline", (
                line, 1, created, created, None, rng.choice(("us", "rok", "partner", "industry")), "FMF",
                rng.choice((2025, 2026, 2027)), rng.choice(("planned", "committed", "spent")),
                f"{rng.randrange(1, 50_000_000)}.{rng.randrange(100):02d}", rng.choice(("USD", "KRW")), "", "",
                creator, pk, creator,
            ), [(created, "+", {})], creator)
    if implementing:
        day = start_date
        for _n in range(rng.randrange(0, 5)):
            day = day + datetime.timedelta(days=rng.randrange(20, 120))
            update = rows.new_id("projects_progressupdate")
            rows.tracked("projects_progressupdate", (
                update, 1, created, created, None, day, rng.choice(("on_track", "on_track", "at_risk", "off_track")),
                _text(rng, WORDS, 25), "", "", creator, pk, creator,
            ), [(created, "+", {})], creator)
        for n in range(rng.randrange(1, 4)):
            due = start_date + datetime.timedelta(days=90 * (n + 1))
            milestone = rows.new_id("projects_milestone")
            rows.tracked("projects_milestone", (
                milestone, 1, created, created, None, f"Milestone {n + 1}", due,
                due if rng.random() < 0.5 else None, "", creator, pk, creator,
            ), [(created, "+", {})], creator)
    if status in ("presented", "in_implementation", "completed") and ready_on and deleted is None:
        index = bisect.bisect_left(deadlines, ready_on)
        if index < len(cycles):
            presentation = rows.new_id("scm_reports_scmpresentation")
            rows.tracked("scm_reports_scmpresentation", (
                presentation, 1, updated, updated, None, "endorsed", "", updated, pk, creator, cycles[index][1],
            ), [(updated, "+", {})], creator)
    return pk, status, deleted


def _history_only(rows, row, entry, user) -> int:
    """A further history row of a project already added."""
    at, kind, changes = entry
    columns = PROJECT_COLUMNS
    values = dict(zip(columns, row, strict=True))
    values.update(changes)
    history_id = rows.new_id("projects_historicalcooperativeproject:history_id")
    rows.add("projects_historicalcooperativeproject", columns + HISTORY_EXTRA,
             tuple(values[c] for c in columns) + (0, history_id, at, None, kind, user))
    return history_id


def _engagements_and_actions(rows, rng, batch, stamp, users, everyone, orgs, focus, now):
    """One engagement per ten projects of the batch, one action per four."""
    live = [pk for pk, _status, deleted in batch if deleted is None]
    engagements = []
    for _n in range(max(1, len(batch) // 10)):
        pk = rows.new_id("projects_engagement")
        kind = rng.choice(("meeting", "call", "visit", "workshop", "working_group", "b2b", "exercise"))
        day = (now - datetime.timedelta(days=rng.randrange(0, 700))).date()
        deleted = now if rng.random() < 0.02 else None
        creator = rng.choice(users)
        at = now - datetime.timedelta(days=rng.randrange(0, 700))
        history = rows.tracked("projects_engagement", (
            pk, 1, at, at, deleted, day, kind, _text(rng, WORDS, 20), rng.choice(("Seoul", "Washington", "Manila")),
            creator, "", '[{"name": "Partner official", "organization": "Ministry"}]' if rng.random() < 0.3 else "[]",
            creator,
        ), [(at, "+", {})], creator)
        for field, targets in (
            ("projects", rng.sample(live, min(len(live), rng.choice((1, 1, 2, 3))))),
            ("participants", rng.sample(everyone, rng.choice((2, 3, 4)))),
            ("industry_organizations", rng.sample(orgs["industry"], 2) if kind == "b2b" else []),
            ("partner_countries", rng.sample(focus, rng.choice((0, 1, 2)))),
        ):
            through, column = ENGAGEMENT_M2M[field]
            rows.m2m(through, "engagement_id", pk, column, targets, [history])
        engagements.append(pk)
    for _n in range(len(batch) // 4):
        pk = rows.new_id("projects_actionitem")
        status = rng.choice(("open", "open", "done", "done", "cancelled"))
        due = (now + datetime.timedelta(days=rng.randrange(-200, 200))).date()
        creator = rng.choice(users)
        at = now - datetime.timedelta(days=rng.randrange(0, 700))
        on_engagement = rng.random() < 0.3
        rows.tracked("projects_actionitem", (
            pk, 1, at, at, now if rng.random() < 0.02 else None, f"Follow up: {_text(rng, WORDS, 4)}", "", due,
            status, due if status == "done" else None, "", creator,
            rng.choice(engagements) if on_engagement else None, rng.choice(everyone),
            None if on_engagement else rng.choice(live), creator,
        ), [(at, "+", {})], creator)
