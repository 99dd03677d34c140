"""The published warehouse's DuckDB SQL, shipped with the package as data."""

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent
