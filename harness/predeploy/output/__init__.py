"""The three views of one `PredeployReport`: a table for people, JSON for machines, JUnit
XML for CI. Each renders the report as it is; none decides anything."""

from harness.predeploy.output.json_report import report_json, report_schema
from harness.predeploy.output.junit import junit_xml
from harness.predeploy.output.table import print_table, render_table

__all__ = ["junit_xml", "print_table", "render_table", "report_json", "report_schema"]
