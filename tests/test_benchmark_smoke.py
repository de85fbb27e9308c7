"""The benchmark script runs end to end on a small workbook (a smoke test; figures come from full runs)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_runs_and_the_idle_rerun_leaves_the_file_byte_identical(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "1000", "--runs", "1", "--no-write-docs"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 1,000 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert "file changed" not in row
    assert float(cells[5]) > 0 and float(cells[6]) > 0  # both ratios were computed
