"""Render a `RiskReportDocument` as PDF (reportlab), HTML (Jinja2, autoescaped) or JSON.

User-supplied text (product names, findings) reaches the HTML only through Jinja2's
autoescaping and the PDF only through reportlab's escaped Paragraph markup.
"""

from __future__ import annotations

import io
import json
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crownsafe.risk_reports.document import RiskReportDocument

__all__ = ["render_html", "render_json", "render_pdf"]

_env = Environment(
    loader=PackageLoader("crownsafe.risk_reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
)


def render_json(document: RiskReportDocument) -> bytes:
    return json.dumps(document.to_json(), indent=2, sort_keys=True).encode()


def render_html(document: RiskReportDocument) -> bytes:
    template = _env.get_template("report.html.j2")
    return template.render(report=document.to_json()).encode()


def render_pdf(document: RiskReportDocument) -> bytes:
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Crown Safe risk report {document.report_id}",
        author="Crown Safe",
        invariant=True,
    )
    story = [
        Paragraph("Crown Safe risk report", styles["Title"]),
        Paragraph(escape(document.product_name), styles["Heading2"]),
        Paragraph(
            escape(
                f"Scan {document.scan_id} ({document.scan_type}), barcode "
                f"{document.barcode or 'n/a'}, scanned {document.scanned_at:%Y-%m-%d %H:%M} UTC"
            ),
            styles["Normal"],
        ),
        Spacer(1, 12),
        Paragraph(
            escape(f"Risk score {document.risk_score:.1f} / 100: {document.risk_level}"),
            styles["Heading3"],
        ),
    ]
    rows = [["Severity", "Code", "Finding"]] + [
        [f.severity, f.code, Paragraph(escape(f"{f.title}. {f.detail}"), styles["BodyText"])]
        for f in document.findings
    ]
    if len(rows) == 1:
        rows.append(["-", "-", "No findings"])
    table = Table(rows, colWidths=[70, 90, 330], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 12)]
    story.append(
        Paragraph(
            escape(f"Report {document.report_id}, generated {document.generated_at.isoformat()}"),
            styles["Italic"],
        )
    )
    pdf.build(story)
    return out.getvalue()
