"""The pure scoring core: no web imports. The API, the CLI and the tests call these functions."""

from app.scoring.engine import Lookups, Options, score_record
from app.scoring.registry import RULES, Rule
from app.scoring.ruleset import RulesError, Ruleset, load_rules

__all__ = ["RULES", "Lookups", "Options", "Rule", "Ruleset", "RulesError", "load_rules", "score_record"]
