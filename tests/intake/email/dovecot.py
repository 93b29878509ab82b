"""A private Dovecot IMAP server for the tests: its own config, maildirs and log in a temporary
folder, listening on 127.0.0.1 at free ports, run in the foreground (``dovecot -F -c conf``)
and stopped after. With ``tls`` it also speaks IMAPS and STARTTLS with a self-signed
certificate for 127.0.0.1 (``cafile`` trusts it).

Any user name logs in with ``PASSWORD`` (a static passdb) and gets an empty maildir of its own,
so one server gives every test a fresh mailbox (``Dovecot.mailbox()``). As root the mail
belongs to ``nobody`` (Dovecot refuses mail access as root); as another user everything runs
as that user."""

from __future__ import annotations

import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from hotline.intake.email.imap_folder import encode_folder

# Characters a URL must percent-encode (and no "%", "#" or space, which the static passdb's
# arguments would read otherwise).
PASSWORD = "p@ss/w:rd?1"
_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _self_signed(folder: Path) -> Path:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert


class Mailbox:
    """One user's mailbox on the server: what the delivering mail server and a mail client
    see of it."""

    def __init__(self, server: Dovecot, user: str) -> None:
        self.server, self.user = server, user

    def url(self, *, scheme: str = "imap", password: str = PASSWORD, folder: str = "INBOX",
            query: str = "") -> str:
        port = self.server.tls_port if scheme == "imaps" else self.server.port
        credentials = f"{quote(self.user, safe='')}:{quote(password, safe='')}"
        return (f"{scheme}://{credentials}@127.0.0.1:{port}/{quote(folder)}"
                + (f"?{query}" if query else ""))

    @contextlib.contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection, as a mail client (or the delivering server) would have."""
        client = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=30)
        try:
            client.login(self.user, PASSWORD)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, raw: bytes, *, folder: str = "INBOX", flags: str = "") -> None:
        with self.session() as client:
            # typeshed's stub says str; imaplib answers (status, data) like every command.
            answer: Any = client.append(encode_folder(folder), f"({flags})" if flags else "",
                                        "", raw)
            assert answer[0] == "OK", answer

    def messages(self, folder: str = "INBOX") -> list[tuple[int, set[str]]]:
        """(UID, flags) of every mail in ``folder``, oldest first."""
        with self.session() as client:
            status, data = client.select(encode_folder(folder), readonly=True)
            assert status == "OK", data
            status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            found = []
            for line in data:
                if not isinstance(line, bytes):
                    continue
                words = line.decode().replace("(", " ").replace(")", " ").split()
                uid = int(words[words.index("UID") + 1])
                # \Recent only says which session saw the mail first.
                found.append((uid, {w for w in words if w.startswith("\\")} - {"\\Recent"}))
            return sorted(found)


class Dovecot:
    def __init__(self, *, tls: bool = False) -> None:
        if not (Path("/usr/sbin/dovecot").exists() and Path("/usr/lib/dovecot/imap").exists()):
            pytest.fail("dovecot is not installed: apt-get install -y dovecot-imapd")
        self.tls = tls
        # Not pytest's tmp_path: Dovecot's unprivileged processes must reach the sockets and
        # the maildirs, and pytest's folders are private to the user running the tests.
        self.root = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
        self.root.chmod(0o755)
        self.port, self.tls_port = free_port(), (free_port() if tls else 0)
        self.cafile = ""
        self.process: subprocess.Popen[bytes] | None = None

    def mailbox(self) -> Mailbox:
        return Mailbox(self, f"hotline{next(_names)}")

    def _config(self) -> str:
        mail = self.root / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("nobody")
            os.chown(mail, owner.pw_uid, owner.pw_gid)
            running_as, chroot = "", ""
        else:
            owner = pwd.getpwuid(os.geteuid())
            group = grp.getgrgid(os.getegid()).gr_name
            running_as = (f"default_internal_user = {owner.pw_name}\n"
                          f"default_internal_group = {group}\n"
                          f"default_login_user = {owner.pw_name}\n")
            chroot = "  chroot =\n"
        ssl = "ssl = no"
        if self.tls:
            cert = _self_signed(self.root)
            self.cafile = str(cert)
            ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{self.root / 'key.pem'}"
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = {self.root.name}
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
{running_as}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={mail}/%u
}}
# No penalty after a failed login (anvil's): the wrong-password test must not slow the next.
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
"""

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Dovecot:
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        self.process = subprocess.Popen(
            [shutil.which("dovecot") or "/usr/sbin/dovecot", "-F", "-c", str(conf)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") \
                    if self.process.stdout else ""
                self.stop()
                pytest.fail(f"dovecot stopped at start: {output}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return self
            time.sleep(0.05)
        log = self.log()
        self.stop()
        pytest.fail(f"dovecot did not answer on 127.0.0.1:{self.port}\n{log}")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=15)
            if self.process.stdout:
                self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running(*, tls: bool = False) -> Iterator[Dovecot]:
    server = Dovecot(tls=tls).start()
    try:
        yield server
    finally:
        server.stop()
