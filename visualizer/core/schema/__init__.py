"""JSON Schemas of result.json, evaluation.json, steal.json and poison.json (shipped with the package so users can validate their files)."""

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("result.schema.json")
EVALUATION_SCHEMA_PATH = Path(__file__).with_name("evaluation.schema.json")
POISON_SCHEMA_PATH = Path(__file__).with_name("poison.schema.json")
STEAL_SCHEMA_PATH = Path(__file__).with_name("steal.schema.json")


@lru_cache(maxsize=1)
def result_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def evaluation_schema() -> dict:
    return json.loads(EVALUATION_SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def poison_schema() -> dict:
    return json.loads(POISON_SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def steal_schema() -> dict:
    return json.loads(STEAL_SCHEMA_PATH.read_text(encoding="utf-8"))
