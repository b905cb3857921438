"""The three views of one `PredeployResult`: a table for people, JSON for machines, JUnit
XML for CI. Each renders the result as it is; none decides anything."""

from harness.predeploy.output.json_result import result_json, result_schema
from harness.predeploy.output.junit import junit_xml
from harness.predeploy.output.table import print_table, render_table

__all__ = ["junit_xml", "print_table", "render_table", "result_json", "result_schema"]
