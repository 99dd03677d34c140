"""Where dancu reads and writes: the landing folder (read only) and the data folder."""

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dancu.warehouse import WAREHOUSE_FILE

DEFAULT_DATA_DIR = "data"
# `dancu ui` serves the reports folder over http beside the Dagster UI: browsers refuse to open
# `file://` links from an http page.
REPORT_PORT_ENV = "DANCU_REPORT_PORT"
DEFAULT_REPORT_PORT = 3001
# What dancu writes is read by its owner and the owner's group, never by everyone: staged frames
# hold names, ids and religion.
PRIVATE_UMASK = 0o027


SECRET_FORM = re.compile(r"^[0-9a-f]{64}$")


class SecretFileError(Exception):
    """The installation's key file is there but holds no key."""


class FolderError(Exception):
    """A folder of the contract is missing, empty or cannot be written."""


def check_landing(landing: Path) -> None:
    """A missing or empty landing folder is a mistyped path or a failed delivery, never a city
    with no people: publishing from it would empty the register."""
    if not landing.is_dir():
        raise FolderError(
            f"the landing folder {landing} does not exist (set DANCU_LANDING_DIR or --landing)"
        )
    if not any(path.is_file() for path in landing.rglob("*")):
        raise FolderError(f"the landing folder {landing} holds no file: nothing was delivered")


def check_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as error:
        raise FolderError(
            f"cannot write to the data folder {data_dir}: {error.strerror} "
            "(set DANCU_DATA_DIR or --data to a folder dancu may write)"
        ) from None


def report_port() -> int:
    return int(os.environ.get(REPORT_PORT_ENV) or DEFAULT_REPORT_PORT)


def report_url(relative: Path | str) -> str:
    """Where `dancu ui` serves a file of the reports folder, given its path inside it."""
    return f"http://localhost:{report_port()}/{Path(relative).as_posix()}"


def data_dir_from_env() -> Path:
    return Path(os.environ.get("DANCU_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def landing_dir_from_env() -> Path:
    landing = os.environ.get("DANCU_LANDING_DIR")
    return Path(landing).resolve() if landing else data_dir_from_env() / "landing"


class Folders:
    """The folders of the contract, below `data_dir` and `landing_dir` (set by the subclass)."""

    data_dir: str
    landing_dir: str

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def staging_dir(self) -> Path:
        """Each asset's table as stages hand it on (`<asset>.parquet`)."""
        return Path(self.data_dir) / "staging"

    @property
    def warehouse_dir(self) -> Path:
        return Path(self.data_dir) / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The published warehouse services read."""
        return self.warehouse_dir / WAREHOUSE_FILE

    @property
    def reports_dir(self) -> Path:
        return Path(self.data_dir) / "reports"

    @property
    def cache_dir(self) -> Path:
        """Per-file results of earlier runs (`dancu.cache`); deleting it only makes a run cold."""
        return self.staging_dir / "cache"

    @property
    def model_dir(self) -> Path:
        """The resolution model of the latest run, kept so that `dancu explain` can use it."""
        return self.staging_dir / "resolution_model"

    @property
    def review_dir(self) -> Path:
        """Where clerks drop their decided review-queue files (CSV with `decision` filled in)."""
        return Path(self.data_dir) / "review" / "decisions"

    @property
    def secret_file(self) -> Path:
        """The installation's secret: back it up (`dancu keys backup`), never lose it."""
        return Path(self.data_dir) / "secrets" / "person_id.key"

    def person_id_secret(self) -> str:
        """The installation's secret behind new person ids, made on first use.

        Ids are keyed digests of a founding record, so that nobody can tell from a person id
        which insurance code or record it came from; keep this file with the data.
        """
        path = self.secret_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        secret = path.read_text(encoding="utf-8").strip()
        # An empty or damaged key would key every installation's ids alike: anyone could
        # recompute them.
        if not SECRET_FORM.match(secret):
            raise SecretFileError(
                f"{path} holds no dancu key (64 hexadecimal digits): put the register's key back "
                "with: dancu keys restore FILE"
            )
        return secret


@dataclass(frozen=True)
class Paths(Folders):
    data_dir: str
    landing_dir: str

    @classmethod
    def from_env(cls) -> "Paths":
        return cls(data_dir=str(data_dir_from_env()), landing_dir=str(landing_dir_from_env()))

    @classmethod
    def of(cls, data_dir: Path) -> "Paths":
        """The folders of a data folder, with the landing folder the contract puts in it."""
        return cls(data_dir=str(data_dir), landing_dir=str(data_dir / "landing"))
