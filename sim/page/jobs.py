"""The page's runs: each a ``reformsim compare`` process, kept by its inputs, cancellable.

A run is the command line itself (``python -m sim.cli compare baseline.toml reform.toml ...``)
in a process of its own, so a run from the page is the command line's run, byte for byte, and
cancelling it is stopping that process. Its folder is named by a hash of its inputs (both
scenario files, the uploaded reform, scale, language, seed, breakdown, and the code and data),
so asking again for a finished run is instant. Outputs are written to ``out.part`` and renamed
to ``out`` only when the command has succeeded: a cancelled or failed run leaves no results.
Everything is written under the server's results folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import PROGRESS_ENV
from .levers import Choice, file_names
#: the files of a finished run the page serves (charts are served from charts/ by name)
DOWNLOADS = ("report.xlsx", "summary.json", "budget.csv", "municipalities.csv")
#: the scenario files of a run (served for download): the page's two and an uploaded reform
SCENARIO_FILE = re.compile(r"[a-z0-9_]+\.toml")


def code_version() -> str:
    """A hash of the package's source and data files: a run's results depend on them."""
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for folder, pattern in (("sim", "*.py"), ("data", "*.csv"), ("configs", "*.toml")):
        for path in sorted((root / folder).rglob(pattern)):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def run_key(choice: Choice, folder_files: dict[str, bytes], version: str) -> str:
    """The hash of a run's inputs: its folder's name."""
    spec = {"baseline": choice.baseline, "reform": choice.reform, "scale": choice.scale, "lang": choice.lang,
            "seed": choice.seed, "breakdown": choice.breakdown, "version": version,
            "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(folder_files.items())}}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class Job:
    """One run: its folder, its process while it runs, and what became of it."""

    key: str
    folder: Path
    choice: Choice
    state: str = "queued"              # queued, running, done, failed, cancelled
    message: str = ""
    started: float = field(default_factory=time.time)
    process: subprocess.Popen | None = None

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def progress(self) -> list[str]:
        """What the command has simulated so far, one line per simulation."""
        path = self.folder / "progress.txt"
        return path.read_text().splitlines() if path.exists() else []

    def command(self) -> list[str]:
        """The command line of the run (run in the job's folder)."""
        c = self.choice
        cmd = ["compare", *file_names(c), "--out", "out.part", "--scale", repr(c.scale),
               "--lang", c.lang, "--seed", str(c.seed)]
        return cmd + ([] if c.breakdown else ["--no-breakdown"])


class Runs:
    """The runs of one server, under ``root``: one at a time in its own process, the rest queued."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.version = code_version()
        self.queue: list[str] = []
        self.worker: threading.Thread | None = None

    def folder(self, key: str) -> Path:
        return self.root / "runs" / key

    def get(self, key: str) -> Job | None:
        """The job of ``key``: a run of this server, or a finished run kept on disk."""
        with self.lock:
            job = self.jobs.get(key)
        if job is None and len(key) == 24 and key.isalnum() and (self.folder(key) / "out").is_dir():
            meta = json.loads((self.folder(key) / "choice.json").read_text())
            job = Job(key, self.folder(key), Choice(**meta), state="done")
            with self.lock:
                self.jobs[key] = job
        return job

    def submit(self, choice: Choice, staging: Path) -> Job:
        """A run of the files in ``staging`` (written by :func:`sim.page.levers.write_files`):
        the finished run of the same inputs if there is one, else a new run in the queue."""
        files = {p.name: p.read_bytes() for p in staging.iterdir() if SCENARIO_FILE.fullmatch(p.name)}
        key = run_key(choice, files, self.version)
        job = self.get(key)
        if job is not None and job.state in ("queued", "running", "done"):
            shutil.rmtree(staging, ignore_errors=True)
            return job
        folder = self.folder(key)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        (folder / "choice.json").write_text(json.dumps(choice.__dict__))
        job = Job(key, folder, choice)
        with self.lock:
            self.jobs[key] = job
            self.queue.append(key)
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, daemon=True)
                self.worker.start()
        return job

    def _work(self) -> None:
        while True:
            with self.lock:
                if not self.queue:
                    self.worker = None
                    return
                job = self.jobs[self.queue.pop(0)]
                if job.state != "queued":
                    continue
                job.state = "running"
            self._run(job)

    def _run(self, job: Job) -> None:
        part = job.folder / "out.part"
        shutil.rmtree(part, ignore_errors=True)
        env = dict(os.environ, **{PROGRESS_ENV: str(job.folder / "progress.txt")})
        (job.folder / "progress.txt").write_text("")
        with open(job.folder / "log.txt", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *job.command()], cwd=job.folder,
                                    stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            job.process = proc
            rc = proc.wait()
        job.process = None
        if job.state == "cancelled":
            shutil.rmtree(part, ignore_errors=True)
            return
        if rc == 0:
            part.rename(job.out)
            job.state = "done"
        else:
            shutil.rmtree(part, ignore_errors=True)
            lines = [ln for ln in (job.folder / "log.txt").read_text().splitlines() if ln.strip()]
            job.message = lines[-1] if lines else f"the run stopped with status {rc}"
            job.state = "failed"

    def cancel(self, key: str) -> bool:
        """Stop a queued or running run; its partial outputs are removed. False if it had ended."""
        job = self.get(key)
        if job is None or job.state not in ("queued", "running"):
            return False
        job.state = "cancelled"
        proc = job.process
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(job.folder / "out.part", ignore_errors=True)
        return True
