"""Seeds: the apps before reporting load theirs partly in bulk (registers, cohort statuses),
which announces nothing, so the read model is rebuilt once they are in."""

from pathlib import Path

from reporting.services.rebuild import read_model_rebuild


def seed(*, seeds_dir: Path, demo: bool) -> list[str]:
    report = read_model_rebuild(fix=True)
    return [f"Read model rebuilt: {report.leaders} leaders, {report.differing} kept values corrected."]
