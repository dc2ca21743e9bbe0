"""The demo's dossiers: a registration form for every case, records and evidence
as scanned pages, documents in every review state, and paper dossiers lent out
(one of them overdue).

The "scans" are one-page PDFs drawn with Pillow (a CJK font where the machine
has one, Pillow's own font otherwise): a demo file that opens in any viewer.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from casecenter.accounts.models import User
from casecenter.cases.models import Case
from casecenter.dossiers import services as dossiers

FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]
RECORDS = [
    ("interrogation_record", "讯问笔录（第一次）"),
    ("inquiry_record", "被害人询问笔录"),
    ("evidence", "现场照片及勘验笔录"),
    ("appraisal_opinion", "价格认定结论书"),
]
RETURN_REASONS = [
    "笔录缺少被询问人签名捺印。",
    "勘验笔录未注明见证人，请补正。",
    "鉴定意见缺少鉴定机构资质证明。",
]


@lru_cache(maxsize=1)
def _font():
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, 28)
    return ImageFont.load_default()


def scanned_page(title: str, case: Case, note: str = "") -> bytes:
    """A one-page PDF that looks like a scanned form."""
    page = Image.new("RGB", (1240, 1754), (252, 251, 247))
    draw = ImageDraw.Draw(page)
    font = _font()
    draw.text((120, 140), title, fill=(20, 20, 20), font=font)
    draw.text((120, 220), f"{case.number}  {case.title}", fill=(40, 40, 40), font=font)
    for row in range(12):
        y = 320 + row * 90
        draw.line((120, y, 1120, y), fill=(180, 180, 180), width=2)
    if note:
        draw.text((120, 1500), note, fill=(60, 60, 60), font=font)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    return out.getvalue()


def registration_form(case: Case, lead: User, legal: User) -> None:
    """Before filing: the registration form generated and approved."""
    document = dossiers.generate(lead, case, "registration_form")
    dossiers.review(legal, document, decision="approved", version=document.versions_count)


def records(case: Case, lead: User, legal: User, rng: random.Random, *, settled: bool) -> None:
    """Records and evidence of an investigation. ``settled``: all approved (the
    case goes on to transfer or decision); otherwise some await review, and
    some were returned and corrected."""
    for kind, title in rng.sample(RECORDS, rng.randint(2, len(RECORDS))):
        document = dossiers.add_case_document(
            lead,
            case,
            kind=kind,
            title=title,
            chunks=[scanned_page(title, case)],
            filename=f"{title}.pdf",
        )
        roll = rng.random()
        if not settled and roll < 0.35:
            continue  # awaiting legal review
        if roll < 0.55:
            dossiers.review(
                legal, document, decision="returned", version=1, reasons=rng.choice(RETURN_REASONS)
            )
            if not settled and roll < 0.45:
                continue  # returned, not corrected yet
            dossiers.add_version(
                lead,
                document,
                chunks=[scanned_page(title, case, note="已补正")],
                expected_versions=1,
                filename=f"{title}（补正）.pdf",
                note="已按审核意见补正",
            )
            document.refresh_from_db()
        dossiers.review(legal, document, decision="approved", version=document.versions_count)


def loans(cases: list[Case], manager: User, borrowers: dict[int, User]) -> int:
    """Paper dossiers lent: a few due back later, one lent ten days ago (overdue)."""
    lent = 0
    now = timezone.now()
    for n, case in enumerate(cases[:4]):
        borrower = borrowers.get(case.pk)
        if borrower is None:
            continue
        dossiers.lend_case_dossier(
            manager,
            case,
            borrower=borrower,
            purpose="补充侦查阅卷" if n else "复核案件事实",
            at=now - timedelta(days=10 if n == 0 else n),
        )
        lent += 1
    return lent
