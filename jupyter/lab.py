"""``make lab``: the learner's working copy, and JupyterLab serving it, quietly.

The course's release, ``notebooks/``, is tracked by git and replaced by every
course update. A learner works in a personal copy instead, ``my_work/``
(git-ignored), which this script makes from the release on first run and
never overwrites:

* a file of the release that the copy lacks (a new assignment, a new data
  file, a notebook the learner renamed or deleted) is copied in;
* a file the copy already has is left alone, even when the release changed
  it; the script then says so, once per run, and how to take the new version
  (rename yours, run ``make lab`` again).

``my_work/.release.json`` records the release version (SHA-256) each file was
copied from; that is how an updated notebook is told from a learner's edits.

Then it starts JupyterLab on the copy with the Jupyter config in effect (the
student view, ``jupyter/student/``), hides the server's start-up log, and ends
its output with the address and how to stop the server.

Usage::

    python jupyter/lab.py [--release notebooks] [--work my_work] [--sync-only] [-- JUPYTER-LAB-ARGS...]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".release.json"
SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


@dataclass
class SyncReport:
    """What :func:`sync` did: paths relative to the working copy."""

    work: Path
    created: bool = False
    added: list[str] = field(default_factory=list)
    updated_in_release: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.created:
            out.append(f"Made your working copy {self.work} from the release: {len(self.added)} files. "
                       "Your answers are saved there; the release is never edited.")
        elif self.added:
            out.append(f"Added to your working copy {self.work}: {', '.join(self.added)}")
        for rel in self.updated_in_release:
            out.append(f"The course has a newer {rel}; yours is kept. To take the new one, rename yours "
                       f"(e.g. {_renamed(rel)}) and run make lab again.")
        return out


def _renamed(rel: str) -> str:
    p = Path(rel)
    return str(p.with_name(f"{p.stem}.mine{p.suffix}"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release_files(release: Path) -> list[Path]:
    return sorted(p for p in release.rglob("*")
                  if p.is_file() and not SKIP.intersection(p.relative_to(release).parts))


def sync(release: Path, work: Path) -> SyncReport:
    """Bring the working copy ``work`` up to date with ``release`` without touching the learner's files.

    Copies every file of ``release`` that ``work`` lacks; never overwrites,
    moves or deletes a file in ``work``. Files the release changed since they
    were copied are listed in ``updated_in_release``.

    Raises
    ------
    FileNotFoundError
        If ``release`` is not a folder.
    """
    release, work = Path(release), Path(work)
    if not release.is_dir():
        raise FileNotFoundError(f"release folder {release} not found (run this from the course's folder)")
    report = SyncReport(work=work, created=not work.exists())
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for src in _release_files(release):
        rel = src.relative_to(release).as_posix()
        dest = work / rel
        digest = _digest(src)
        if dest.exists():
            report.kept.append(rel)
            if manifest.get(rel, digest) != digest:
                report.updated_in_release.append(rel)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        manifest[rel] = digest
        report.added.append(rel)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(manifest_path)
    return report


# --- serving -------------------------------------------------------------------------------

_URL = re.compile(r"^\s+(https?://\S+)\s*$")
_PORT = re.compile(r"https?://[^/\s]*:(\d+)/")


def _jupyter_command() -> str:
    """How to call this environment's ``jupyter`` from another terminal in this folder."""
    jupyter = Path(sys.executable).parent / "jupyter"
    try:
        return str(jupyter.relative_to(Path.cwd()))  # .venv/bin/jupyter: works without activating
    except ValueError:
        return "jupyter" if shutil.which("jupyter") == str(jupyter) else str(jupyter)


def _port_note(urls: list[str], lab_args: list[str]) -> str:
    """A second line when Jupyter moved to another port because the asked one was busy."""
    wanted = _requested_port(lab_args)
    got = next((int(m[1]) for u in urls if (m := _PORT.search(u))), wanted)
    if got == wanted:
        return ""
    return (f"\nPort {wanted} was busy (another server uses it: `{_jupyter_command()} server list` shows yours), "
            f"so this one uses port {got}.")


def _stop_hint(urls: list[str]) -> str:
    port = next((m[1] for u in urls if (m := _PORT.search(u))), "PORT")
    return (f"To stop the server: press Ctrl-C twice here, "
            f"or run `{_jupyter_command()} server stop {port}` in another terminal.")


def _kernel_transport(lab_args: list[str]) -> list[str]:
    """Kernels talk to the server over Unix sockets where there are any (Linux, macOS).

    Over TCP, ipykernel warns at every kernel start that the connection is not
    encrypted; Unix sockets in the user's runtime folder are private to them.
    An explicit ``--KernelManager.transport`` in ``lab_args`` wins.
    """
    if os.name != "posix" or any("transport" in a for a in lab_args):
        return []
    return ["--KernelManager.transport=ipc"]


def running_server(work: Path) -> dict | None:
    """The Jupyter server already serving ``work`` (as listed by ``jupyter server list``), if any."""
    from jupyter_server.serverapp import list_running_servers

    for info in list_running_servers():
        try:
            if Path(info.get("root_dir", "")).resolve() == work.resolve():
                return info
        except OSError:
            continue
    return None


def _requested_port(lab_args: list[str]) -> int:
    for arg in lab_args:
        if m := re.match(r"--(?:ServerApp\.)?port=(\d+)$", arg):
            return int(m[1])
    return 8888


def serve(work: Path, lab_args: list[str]) -> int:
    """Run ``jupyter lab`` on ``work``; show its errors, then the address, then how to stop it.

    Start-up messages below WARNING are hidden by the server's log level (the
    student config sets it); the address block, which Jupyter logs at the
    CRITICAL level, is shown as it is, and the stop instructions follow it.
    After that the server's output is passed through unchanged (its shutdown
    prompt included).
    """
    from jupyter_core.paths import jupyter_runtime_dir

    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}", *_kernel_transport(lab_args), *lab_args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    # Ctrl-C goes to the whole process group: let Jupyter alone decide (it asks to confirm).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    chunks: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        while chunk := os.read(proc.stdout.fileno(), 65536):
            chunks.put(chunk)
        chunks.put(b"")

    threading.Thread(target=read, daemon=True).start()
    out = sys.stdout.buffer
    # Written by the server when it is ready, just before it logs its address.
    info_file = Path(jupyter_runtime_dir()) / f"jpserver-{proc.pid}.json"
    pending, urls, in_block, hinted, waited = b"", [], False, False, 0
    while not hinted:
        try:
            chunk = chunks.get(timeout=0.5)
        except queue.Empty:
            chunk = None
        if chunk == b"":  # the server exited before it was ready
            out.write(pending)
            out.flush()
            return proc.wait()
        if chunk:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                if "copy and paste one of these URLs" in line:
                    in_block = True
                elif in_block and (m := _URL.match(line)):
                    urls.append(m[1])
                elif in_block and urls:  # the address block is over
                    in_block, hinted = False, True
                    out.write((_stop_hint(urls) + _port_note(urls, lab_args) + "\n").encode())
                out.write(raw + b"\n")
        elif urls and not hinted:  # a quiet half second after the last address
            hinted = True
            out.write((_stop_hint(urls) + _port_note(urls, lab_args) + "\n").encode())
        elif not urls and info_file.exists():
            # A token or password set in the config: Jupyter logs no address; say it ourselves.
            waited += 1
            if waited > 20:  # ten quiet seconds: the address block, if any, would be out by now
                url = json.loads(info_file.read_text())["url"] + "lab"
                urls, hinted = [url], True
                out.write(f"Jupyter is serving your working copy at {url} (log in as configured)\n".encode())
                out.write((_stop_hint(urls) + "\n").encode())
        out.flush()
    out.write(pending)
    out.flush()
    while chunk := chunks.get():  # then pass everything through, the shutdown prompt included
        out.write(chunk)
        out.flush()
    return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=Path("notebooks"), help="the course release (default: notebooks)")
    parser.add_argument("--work", type=Path, default=Path("my_work"), help="your working copy (default: my_work)")
    parser.add_argument("--sync-only", action="store_true", help="update the working copy, do not start JupyterLab")
    parser.add_argument("lab_args", nargs="*", help="passed to `jupyter lab` (put them after --)")
    args = parser.parse_args(argv)
    try:
        report = sync(args.release, args.work)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in report.lines():
        print(line, flush=True)
    if args.sync_only:
        return 0
    if info := running_server(args.work):
        url = f"{info['url']}lab" + (f"?token={info['token']}" if info.get("token") else "")
        print(f"A JupyterLab already serves your working copy {args.work} (pid {info.get('pid')}): open\n"
              f"    {url}\n"
              f"To start a new one, stop that one first: Ctrl-C twice in its terminal, or "
              f"`{_jupyter_command()} server stop {info.get('port')}`.", flush=True)
        return 0
    return serve(args.work.resolve(), args.lab_args)


if __name__ == "__main__":
    sys.exit(main())
