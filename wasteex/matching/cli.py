"""``flask --app wasteex match-file INSTANCE.json [--output FILE]``.

A plain click command (no app context, no database): the lead registers it
with ``app.cli.add_command(match_file_command)``, and it runs just as well
without Flask, e.g. ``match_file_command.main([...])``. Invalid instances
exit with status 2 and one line on stderr naming the item and the field.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from wasteex.matching import instance


class InvalidInstance(click.ClickException):
    exit_code = 2  # like a usage error: the input, not the program, is at fault


@click.command("match-file")
@click.argument("path", metavar="INSTANCE.json", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the result JSON here instead of stdout.",
)
@click.option("--stats", is_flag=True, help="Add candidate-pair and round counts to the result.")
def match_file_command(path: str, output: Path | None, stats: bool) -> None:
    """Match offers to demands in INSTANCE.json: most tonnes, then fewest tonne-km."""
    started = time.perf_counter()
    problem = _read(path)
    from wasteex.matching.solver import solve  # after validation: bad files fail fast

    result = solve(problem)
    doc = instance.result_to_json(result, stats=stats)
    doc["seconds"] = round(time.perf_counter() - started, 3)
    text = json.dumps(doc, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _read(path: str):
    try:
        with click.open_file(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InvalidInstance(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return instance.loads(data)
    except instance.InstanceError as exc:
        raise InvalidInstance(f"{path}: {exc}") from None
