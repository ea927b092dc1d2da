"""Problems found in checklist files, and the exception that carries them."""

from __future__ import annotations

from dataclasses import dataclass, field

from checklists import messages


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where it is and which message explains it.

    `where` is a line number for YAML ("12"), a cell for Excel ("項目!C14"), or empty when the
    problem concerns the whole file. A parameter named `at` is another such location.
    """

    file: str
    where: str
    message_id: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str = "ja") -> str:
        params = dict(self.params)
        if str(params.get("at", "")).isdigit():
            params["at"] = messages.text("line", lang, line=params["at"])
        message = messages.text(self.message_id, lang, **params)
        return f"{self.file}:{self.where}: {message}" if self.where else f"{self.file}: {message}"


class ChecklistFileError(Exception):
    """A file could not be read as a checklist; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(problem.render() for problem in self.problems))
