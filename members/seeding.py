"""What the members app loads from seeds/: roles, geography, consent text, demo people."""

import json
from pathlib import Path

from members.demo import demo_people_load
from members.geography import constituencies_import, regions_import
from members.services import consent_text_publish, roles_sync

DEMO_PASSWORD = "future-leaders-demo"  # noqa: S105 - published in README, demo mode only
# The demo trainers' and staff's authenticator app secret (base32), published in README
# beside the password; `manage.py demo_totp` prints its current code.
DEMO_TOTP_SECRET = "FUTURELEADERSDEMOFUTURELEADERSDE"  # noqa: S105 - demo mode only


def seed(*, seeds_dir: Path, demo: bool) -> list[str]:
    """Load the members app's seeds; safe to run again. Returns lines to report."""
    roles_sync()
    regions = regions_import(path=seeds_dir / "geography" / "regions.csv")
    seats = constituencies_import(path=seeds_dir / "geography" / "constituencies.csv")
    consent = json.loads((seeds_dir / "consent.json").read_text(encoding="utf-8"))
    consent_text_publish(version=consent["version"], body=consent["body"])
    report = [f"Regions: {regions}.", f"Constituencies: {seats}."]
    if demo:
        created = demo_people_load(
            path=seeds_dir / "demo" / "people.json", password=DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET
        )
        report.append(f"Demo people created: {created}.")
    return report
