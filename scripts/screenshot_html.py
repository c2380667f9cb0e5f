"""Render a report to HTML and screenshot it with headless Chromium; print the PNG's path.

Usage:
    python scripts/screenshot_html.py [REPORT.json] [--out PNG] [--dark] [--size WIDTH,HEIGHT]

Without REPORT.json it renders the test suite's sample report. Needs the `chromium` package
(`apt-get install -y chromium`); exits with status 2 and a message when it is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser")
TIMEOUT_S = 120


def _report_html(report_json: Path | None) -> str:
    from deepreview.render.html import render_html
    from deepreview.schema import Report

    if report_json is not None:
        return render_html(Report.model_validate_json(report_json.read_text(encoding="utf-8")))
    sys.path.insert(0, str(ROOT))
    from tests.factories import sample_report

    return render_html(sample_report())


def _chromium() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def screenshot(html: str, png: Path, *, size: str, dark: bool) -> None:
    """Write `html` to a temporary file and save Chromium's rendering of it to `png`."""
    browser = _chromium()
    if browser is None:
        raise SystemExit(
            "screenshot_html: chromium not found; install it: apt-get install -y chromium"
        )
    with tempfile.TemporaryDirectory(prefix="deepreview-shot-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        profile = Path(tmp) / "profile"
        profile.mkdir()
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={size}",
            *(["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []),
            page.as_uri(),
        ]
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
            check=False,
        )
    if proc.returncode != 0 or not png.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"screenshot_html: chromium failed (exit {proc.returncode}):\n{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("report", nargs="?", type=Path, help="a report JSON (default: sample)")
    parser.add_argument("--out", type=Path, help="where to write the PNG (default: a temp file)")
    parser.add_argument("--size", default="1280,2400", help="window size, WIDTH,HEIGHT")
    parser.add_argument("--dark", action="store_true", help="render with the dark colour scheme")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="deepreview-shot-")) / "report.png"
    screenshot(_report_html(args.report), out.resolve(), size=args.size, dark=args.dark)
    print(out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
