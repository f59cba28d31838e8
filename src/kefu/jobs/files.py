"""A job's files in the data folder: ``jobs/<id>/input`` (the upload) and ``jobs/<id>/output``
(the export). They hold personal data: the folder is the owner's only (0700), the files 0600,
and they are deleted a day after the job ended (``KEEP_HOURS``); the job's record stays."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from kefu.core.settings import private_dir

KEEP_HOURS = 24
INPUT = "input"
OUTPUT = "output"


class JobFiles:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "jobs"

    def folder(self, job_id: int) -> Path:
        return self.root / str(int(job_id))

    def input(self, job_id: int) -> Path:
        return self.folder(job_id) / INPUT

    def output(self, job_id: int) -> Path:
        return self.folder(job_id) / OUTPUT

    def _private(self, job_id: int) -> Path:
        private_dir(self.root)
        folder = self.folder(job_id)
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def write(self, path: Path, data: bytes) -> None:
        """Written whole under a temporary name, then renamed: never seen half-written."""
        self._private(int(path.parent.name))
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)

    def share_input(self, source_job: int, job_id: int) -> bool:
        """The checked job's upload becomes the confirmed job's (a hard link: no copy of the data)."""
        source = self.input(source_job)
        if not source.is_file():
            return False
        self._private(job_id)
        target = self.input(job_id)
        target.unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return True

    def remove(self, job_id: int) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def sweep(self, keep_ids: set[int], older_than_hours: float = KEEP_HOURS) -> list[int]:
        """Delete the folders of jobs not in ``keep_ids`` last touched more than ``older_than_hours``
        ago; the ids whose folder went."""
        if not self.root.is_dir():
            return []
        cutoff = time.time() - older_than_hours * 3600
        gone = []
        for folder in self.root.iterdir():
            if not folder.name.isdigit() or int(folder.name) in keep_ids:
                continue
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(int(folder.name))
        return gone
