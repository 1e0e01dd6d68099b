"""The leaderboard's read on PostgreSQL, set-based: the database picks out of each task what the leaderboard reads
(the data keys that name the models, a list's item ids and models, each judged control's item values) and groups
identical judgments, so a million pairwise tasks of 50 models reach Python as a few thousand rows with counts.

The rules stay in quality/leaderboard.py: this only narrows and groups what its per-row reader would see, and hands
the same values to the same `read_values`. What the timings chose (bench/leaderboard_job_bench.py):
- what names the models is read from Task.response_models, a few dozen bytes, rather than from the task data
  (responses and all, stored compressed): a 1,000,000-task read took 5.6 s from the data, 2.0 s from it; for older tasks
  the data is decompressed once per task, by one jsonb_to_record that takes out every key read (each `->>` would
  decompress it again), and in parallel workers where the planner wants them;
- a jsonpath per judged control keeps only the values of its items, so a result's item ids do not split groups;
- the database groups, with the memory to hash the groups, so Python never loops over the tasks.
"""
from collections.abc import Iterator

import orjson
from django.db import connection, transaction

from projects.control_types import ControlTag
from projects.label_config import LIST_ITEM_MODEL_KEYS
from projects.models import Annotation, Project, Task

CONSENSUS, ANNOTATIONS = "consensus", "annotations"

FETCH_SIZE = 2000
# The planner prices decompressing and picking a task at next to nothing, so it keeps the scan in one process, which
# takes twice as long as spreading it over the parallel workers (it still picks an index scan for a small project).
# And it compiles the expressions (JIT) for a million rows: a second of a 5 s read at 1,000,000 tasks, for nothing.
SPREAD_OVER_WORKERS = "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL jit = off"
# What names a task's models: its response_models (a few dozen bytes), else for tasks stored before that column its
# whole data, decompressed; COALESCE reads the data only then.
NAMING = "COALESCE(task.response_models, task.data)"
IDENTIFIER_BYTES = 63  # PostgreSQL cuts longer names, so such a key is read with ->> instead
# A judged control's item values: items that are objects, of the control (`from_name`), of its result type in any
# case, and whose value is an object (strict mode: an item missing a key drops out instead of matching loosely).
# The exact type is tried before the case-blind regex, which then runs only for odd spellings (0.6 s of 1M rows).
VALUES_PATH = ('strict $[*] ? (@.type() == "object" && @.from_name == $name'
               ' && (@.type == "{type}" || @.type like_regex "^{type}$" flag "i") && @.value.type() == "object").value')
# A list's items cut to what names their model, in their positions (a non-object item stays as null).
LIST_ITEMS = """(SELECT jsonb_agg(CASE WHEN jsonb_typeof(item) = 'object' THEN
                     (SELECT COALESCE(jsonb_object_agg(key, value), '{{}}') FROM jsonb_each(item) WHERE key = ANY(%s::text[]))
                   END ORDER BY position)
                 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({items}) = 'array' THEN {items} END)
                      WITH ORDINALITY AS items(item, position))"""


def grouped_judgments(project: Project, controls: list[ControlTag], names: list[str], lists: list[str], *,
                      every_annotation: bool) -> Iterator[tuple[dict, list, int]]:
    """(task data that names the models, the results as values per judged control, how many tasks) per distinct
    judgment of the project's tasks, as quality.leaderboard.read_judgments reads them: `controls` are the judged
    controls, `names` the data keys that may name a model, `lists` the data fields of list objects; each task's
    final result, or with `every_annotation` each of its submitted annotations."""
    source = ANNOTATIONS if every_annotation else CONSENSUS
    sql, params = _grouped_sql(project, controls, source, names, lists)
    # Streamed in chunks by psycopg rather than through a server-side cursor: PostgreSQL plans a cursor for its
    # first rows and never in parallel, which made this read four times slower.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SPREAD_OVER_WORKERS)
        for judgment, times in cursor.cursor.stream(sql, params, size=FETCH_SIZE):
            values = orjson.loads(judgment)
            yield _task_data(names, lists, values), _results(values[-1], source), times


def _grouped_sql(project: Project, controls: list[ControlTag], source: str, names: list[str],
                 lists: list[str]) -> tuple[str, list]:
    keys = DataKeys(sorted({*names, *lists}))
    columns = [keys.text(name) for name in names] + [LIST_ITEMS.format(items=keys.json(key)) for key in lists]
    params: list = [*keys.params(names), *[value for key in lists for value in [[*LIST_ITEM_MODEL_KEYS, "id"], *keys.params([key] * 2)]]]
    picks, pick_params = _value_picks(controls, "{result}")
    if source == ANNOTATIONS:
        columns.append("annotation.results")
        joined = f"""CROSS JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_array({picks.format(result="a.result")}) ORDER BY a.id) AS results
            FROM {Annotation._meta.db_table} AS a WHERE a.task_id = task.id AND NOT a.was_cancelled) AS annotation"""
        where = "task.annotation_count > 0"
    else:
        columns.append(f"jsonb_build_array({picks.format(result='COALESCE(task.reviewed_result, task.consensus_result)')})")
        joined = ""
        where = "(task.reviewed_result IS NOT NULL OR task.consensus_result IS NOT NULL)"
    # One grouping expression, not one per column: the planner guesses 200 values for each, so five columns made it
    # expect a group per task, and it gave up hashing in parallel workers for a serial plan twice as slow.
    sql = f"""SELECT jsonb_build_array({', '.join(columns)})::text, count(*)
        FROM {Task._meta.db_table} AS task {keys.lateral()} {joined}
        WHERE task.project_id = %s AND {where}
        GROUP BY 1"""
    return sql, [*params, *pick_params, project.pk]


class DataKeys:
    """The task data keys read, taken out of `task.data` by one jsonb_to_record (one decompression) as jsonb
    columns; a key too long to be a column name is read with ->> on its own. Data that is not an object has none
    of them, as ->> would say."""

    def __init__(self, keys: list[str]):
        self.columns = {key for key in keys if len(key.encode()) <= IDENTIFIER_BYTES}

    def lateral(self) -> str:
        if not self.columns:
            return ""
        definitions = ", ".join(f"{_quoted(key)} jsonb" for key in self.columns)
        return (f"CROSS JOIN LATERAL jsonb_to_record(jsonb_path_query_first({NAMING}, '$ ? (@.type() == \"object\")'))"
                f" AS task_data({definitions})")

    def text(self, key: str) -> str:
        """The key's value as ->> gives it (a string unquoted, other values as JSON text, null as NULL)."""
        return f"task_data.{_quoted(key)} #>> '{{}}'" if key in self.columns else f"{NAMING} ->> %s"

    def json(self, key: str) -> str:
        return f"task_data.{_quoted(key)}" if key in self.columns else f"({NAMING} -> %s)"

    def params(self, keys: list[str]) -> list[str]:
        return [key for key in keys if key not in self.columns]


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _value_picks(controls: list[ControlTag], result: str) -> tuple[str, list]:
    """One jsonpath pick per judged control, in order, over the SQL expression `result`."""
    picks, params = [], []
    for control in controls:
        if not control.result_type.isalpha():  # it is spliced into the path's regex
            raise ValueError(f"unexpected result type {control.result_type!r}")
        picks.append(f"jsonb_path_query_array({result}, %s::jsonpath, jsonb_build_object('name', %s::text), true)")
        params += [VALUES_PATH.format(type=control.result_type), control.name]
    return ", ".join(picks), params


def _task_data(names: list[str], lists: list[str], values: list) -> dict:
    task_data = {key: value for key, value in zip(names, values) if value is not None}
    task_data |= {key: items for key, items in zip(lists, values[len(names):]) if items is not None}
    return task_data


def _results(results: list | None, source: str) -> list[list[list[dict]]]:
    """The results of a group, each as its values per judged control: the consensus source's one final result,
    or every submitted annotation's."""
    if results is None:
        return []
    return results if source == ANNOTATIONS else [results]
