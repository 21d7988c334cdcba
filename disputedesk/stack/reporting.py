"""Progress of `stack up` / `stack down` on the console: one live line per component."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text


class _SecondsColumn(ProgressColumn):
    """Elapsed time as `12.3s`: start-ups take seconds, so H:MM:SS only hides the detail."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed
        return Text("" if elapsed is None else f"{elapsed:5.1f}s", style="progress.elapsed")


class ConsoleReporter:
    """One live line per component: spinner, name, what it is doing, elapsed time."""

    def __init__(self, console: Console, names: list[str]) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text=" ", table_column=Column(no_wrap=True, width=1)),
            TextColumn(
                "{task.fields[component]}",
                style="bold",
                table_column=Column(no_wrap=True, width=9),
            ),
            # Error messages name files and variables: wrap them rather than cut them.
            TextColumn("{task.description}", table_column=Column(ratio=1, overflow="fold")),
            _SecondsColumn(table_column=Column(no_wrap=True, width=7, justify="right")),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {
            name: self._progress.add_task("waiting", component=name, total=1, start=False)
            for name in names
        }

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def component_began(self, name: str, action: str) -> None:
        self._progress.start_task(self._tasks[name])
        self._progress.update(self._tasks[name], description=action)

    def component_step(self, name: str, step: str) -> None:
        self._progress.update(self._tasks[name], description=step)

    def component_done(self, name: str, outcome: str) -> None:
        self._finish(name, f"[green]✓[/] {outcome}")

    def component_failed(self, name: str, error: str) -> None:
        self._finish(name, f"[red]✗ {error}[/]")

    def _finish(self, name: str, description: str) -> None:
        task = self._tasks[name]
        self._progress.update(task, description=description, completed=1)
        self._progress.stop_task(task)
