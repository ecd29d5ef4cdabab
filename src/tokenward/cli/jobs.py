"""`tokenward jobs …`: run the scheduled jobs from cron, and see how they went.

    jobs run                  every job once, in order
    jobs run --job NAME       one job
    jobs list                 each job, its last run and who holds it now

A job that another instance (or `serve`) is running right now is skipped, not run
twice: leases in the database see to that, so cron and `serve` may both run jobs.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tokenward.cli.output import print_table, when
from tokenward.cli.runner import run, settings_or_fail
from tokenward.container import Container
from tokenward.jobs.models import JobLease
from tokenward.jobs.registry import JOB_NAMES, JOBS, job_named
from tokenward.jobs.runner import JobRun, holder_id, lease_states, run_jobs
from tokenward.logs import configure_logging

app = typer.Typer(help="Run the scheduled jobs and see their last runs.")


@app.command("run")
def run_command(
    job: Annotated[
        str | None,
        typer.Option(help=f"Run only this job: {', '.join(JOB_NAMES)}."),
    ] = None,
) -> None:
    """Run every job once (or only --job); exit 1 if one failed.

    A line per job goes to stdout; the jobs' logs go to stderr, as `serve` writes
    them (TOKENWARD_LOG_FORMAT, TOKENWARD_LOG_LEVEL).
    """
    if job is not None and job not in JOB_NAMES:
        raise typer.BadParameter(
            f"{job!r} is not a job; the jobs are {', '.join(JOB_NAMES)}",
            param_hint="--job",
        )
    jobs = [job_named(job)] if job else list(JOBS)
    settings = settings_or_fail()
    configure_logging(settings)

    async def work(container: Container) -> list[JobRun]:
        return await run_jobs(container, jobs, holder_id())

    runs = run(work, settings)
    print_table(["job", "result"], [[r.name, _result(r)] for r in runs])
    if not all(r.ok for r in runs):
        raise typer.Exit(1)


@app.command("list")
def list_jobs() -> None:
    """Each job with its last run, outcome and current holder."""

    async def work(container: Container) -> dict[str, JobLease]:
        return await lease_states(container)

    leases = run(work)
    rows = []
    for job in JOBS:
        lease = leases.get(job.name)
        rows.append(
            [
                job.name,
                when(lease.last_finished_at if lease else None, missing="never"),
                (lease.last_outcome or "-") if lease else "-",
                json.dumps(lease.last_summary, sort_keys=True) if lease else "-",
                (lease.holder or "-") if lease else "-",
            ]
        )
    print_table(["job", "last run", "outcome", "summary", "running on"], rows)


def _result(job_run: JobRun) -> str:
    if not job_run.ran:
        return "skipped: running elsewhere"
    if job_run.error is not None:
        return f"failed: {job_run.error}"

    return " ".join(f"{k}={v}" for k, v in sorted(job_run.summary.items())) or "done"
