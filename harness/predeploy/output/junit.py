"""`--junit-xml`: one `<testcase>` per check, as CI systems read JUnit.

A failed check is a `<failure>` whose message is the check's message and whose text adds
the fix hint; a skipped one is `<skipped>` with its reason; a planned one (--dry-run) is
skipped too. Built with `xml.etree`, so every message is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.predeploy.model import PredeployResult

__all__ = ["junit_xml"]


def junit_xml(report: PredeployResult) -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": "crownsafe-predeploy",
            "tests": str(len(report.checks)),
            "failures": str(report.counts.get("failed", 0)),
            "errors": "0",
            "skipped": str(report.counts.get("skipped", 0) + report.counts.get("planned", 0)),
            "time": f"{report.duration_s:.3f}",
            "timestamp": report.started_at.isoformat(timespec="seconds"),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("backend", report.backend or ""),
        ("target", report.target),
        ("outcome", report.outcome),
        ("exit_code", str(report.exit_code)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"predeploy.{check.area}",
                "name": check.id,
                "time": f"{check.duration_s:.3f}",
            },
        )
        if check.status == "failed":
            failure = ET.SubElement(case, "failure", {"message": check.message, "type": "failed"})
            failure.text = f"{check.title}: {check.message}\nFix: {check.hint}"
        elif check.status in ("skipped", "planned"):
            ET.SubElement(case, "skipped", {"message": check.message})
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
