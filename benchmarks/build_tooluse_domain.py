"""Build the tool-use / coding development domain for procedural memory.

Ten task kinds an engineering agent meets in a terminal (git, tests, packages,
HTTP APIs, database migrations, refactors, logs, containers, releases, service
configuration). Each trajectory is generated from a template with randomised
arguments (file, branch, package, URL, table... names), one of eight task
phrasings written independently of any key format (held-out items prefer the
phrasings no learned item of their kind used), optional extra steps (so two
trajectories of a kind are not identical), and realistic terminal output. Some
learned trajectories fail (``success: false``) so "avoid" notes have material.

Output: ``benchmarks/data/procedures/tooluse.json``::

    {"domain", "source", "seed", "learn": [item...], "heldout": [item...]}

each item ``{id, type, task, setting, steps: [{action, observation}], success}``
(the shape of the ALFWorld gold trajectories; ``setting`` is the first thing the
agent sees: the terminal prompt, working directory and a listing).

Run from the repository root (deterministic for a given ``--seed``):

    python benchmarks/build_tooluse_domain.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.domain_templates import (  # noqa: E402
    Built,
    KindBuilder,
    Pick,
    build_domain,
    run_cli,
)

__all__ = ["KINDS", "build", "main"]

OUT = Path(__file__).resolve().parent / "data" / "procedures" / "tooluse.json"
LEARN_PER_KIND = 3
FAILED_PER_KIND = 1
HELDOUT_PER_KIND = 5

REPOS = ["billing-api", "atlas", "webshop", "inventory-svc", "pulse", "ledger", "notify", "harbor"]
MODULES = ["parser", "pricing", "auth", "scheduler", "invoice", "cache", "router", "export"]
BRANCHES = [
    "feature/login-form",
    "fix/null-total",
    "chore/bump-deps",
    "feature/csv-export",
    "hotfix/timeout",
    "feature/dark-mode",
    "refactor/db-layer",
    "fix/race-in-cache",
    "docs/api-examples",
]
PACKAGES = [
    ("requests", "requests", "2.31"),
    ("httpx", "httpx", "0.27"),
    ("pyyaml", "yaml", "6.0"),
    ("python-dateutil", "dateutil", "2.9"),
    ("rich", "rich", "13.7"),
    ("orjson", "orjson", "3.10"),
    ("tenacity", "tenacity", "8.2"),
    ("sqlalchemy", "sqlalchemy", "2.0"),
]
HOSTS = ["api.example.com", "data.acme.io", "service.internal.net", "api.weatherly.dev"]
RESOURCES = [("users", "items"), ("orders", "results"), ("stations", "data"), ("repos", "entries")]
TABLES = ["customers", "orders", "invoices", "shipments", "accounts", "products"]
COLUMNS = [
    ("last_login", "DateTime"),
    ("discount", "Numeric"),
    ("is_archived", "Boolean"),
    ("notes", "Text"),
    ("retry_count", "Integer"),
]
FUNCTIONS = [
    ("get_user", "fetch_user"),
    ("calc_total", "compute_total"),
    ("parse_row", "decode_row"),
    ("send_mail", "deliver_email"),
    ("load_cfg", "load_config"),
    ("mk_token", "make_token"),
]
SERVICES = ["gateway", "worker", "checkout", "search", "auth"]
ENDPOINTS = ["/api/cart", "/api/login", "/api/search", "/api/orders", "/api/upload"]
IMAGES = ["webapp", "report-worker", "pricing-api", "docs-site"]
CONFIG_KEYS = [
    ("LOG_LEVEL", "debug", "info"),
    ("MAX_WORKERS", "8", "4"),
    ("CACHE_TTL", "600", "300"),
    ("TIMEOUT_SECONDS", "45", "30"),
]

EXTRA_FILES = [
    "Dockerfile",
    "alembic.ini",
    "migrations/",
    "logs/",
    "config/",
    "data/",
    "Makefile",
    "docs/",
    "requirements-dev.txt",
    "CHANGELOG.md",
]


def _pytest(rng: random.Random, repo: str, body: str) -> str:
    return (
        "============================= test session starts ==============================\n"
        f"platform linux -- Python 3.11.7, pytest-8.2.0, pluggy-1.5.0\nrootdir: /home/dev/{repo}\n"
        f"configfile: pyproject.toml\ncollected {rng.randint(1, 300)} items\n\n{body}"
    )


def _setting(rng: random.Random, repo: str, branch: str = "main") -> str:
    files = ["README.md", "pyproject.toml", "src/", "tests/", ".gitignore"]
    files += rng.sample(EXTRA_FILES, rng.randint(3, len(EXTRA_FILES)))
    rng.shuffle(files)
    return (
        f"dev@box:~/{repo} ({branch})$ ls\n{'  '.join(files)}\n"
        f"You have a shell in the repository {repo}. Python 3.11 and git are installed."
    )


def delete_merged_branches(rng: random.Random, fail: bool, pick: Pick) -> Built:
    base = rng.choice(["main", "master", "develop"])
    merged = rng.sample(BRANCHES, rng.randint(2, 3))
    task = pick(
        [
            f"Clean up the local branches that are already merged into {base}.",
            f"Delete every git branch that has been merged into {base}.",
            f"Remove stale local branches whose work is already in {base}.",
            f"Prune the branches that were merged to {base} so only live work remains.",
            f"Get rid of the old feature branches already merged into {base}.",
            f"Our branch list is a mess - drop whatever {base} already contains.",
            f"Tidy the repo: branches fully integrated in {base} can go.",
            f"Housekeeping: remove the finished branches (already in {base}).",
        ]
    )
    steps: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        steps.append(("git status", f"On branch {base}\nnothing to commit, working tree clean"))
    steps.append(
        (
            "git fetch --prune",
            "remote: Enumerating objects: 14, done.\n"
            "remote: Counting objects: 100% (14/14), done.\n"
            "Unpacking objects: 100% (8/8), 2.10 KiB | 215.00 KiB/s, done.\n"
            "From github.com:team/repo\n - [deleted]         (none)     -> origin/old-spike\n"
            f"   {rng.randrange(16**7):07x}..{rng.randrange(16**7):07x}  {base} -> origin/{base}",
        )
    )
    listing = "\n".join([f"* {base}"] + [f"  {b}" for b in merged])
    steps.append((f"git branch --merged {base}", listing))
    if fail:
        steps.append(
            (
                f"git branch -d {base}",
                f"error: Cannot delete branch '{base}' checked out at '/home/dev/repo'",
            )
        )
        steps.append(("git branch -D " + merged[0], f"Deleted branch {merged[0]} (was 3f2a9c1)."))
        return task, steps, False
    for b in merged:
        steps.append(
            (f"git branch -d {b}", f"Deleted branch {b} (was {rng.randrange(16**7):07x}).")
        )
    steps.append(("git branch", f"* {base}"))
    return task, steps, True


def fix_failing_test(rng: random.Random, fail: bool, pick: Pick) -> Built:
    module = rng.choice(MODULES)
    test = f"test_{module}_{rng.choice(['rounding', 'empty_input', 'unicode', 'defaults'])}"
    path = f"tests/test_{module}.py"
    task = pick(
        [
            f"The test {test} in {path} is failing; make it pass.",
            f"Fix the code so that {path}::{test} passes again.",
            f"CI reports {test} red in {path}. Repair it.",
            f"Get the failing test {test} ({path}) back to green without touching the test.",
            f"Investigate and fix the failure of {test} in {path}.",
            f"{test} broke after the last merge ({path}); find the bug in the code and fix it.",
            f"Why does {path} fail at {test}? Correct the implementation.",
            f"Please debug {test} from {path} until it succeeds.",
        ]
    )
    src = f"src/app/{module}.py"
    line = rng.randint(12, 140)
    fail_out = (
        f"F\n___ {test} ___\n>       assert result == expected\nE       AssertionError\n"
        f"{src}:{line}: AssertionError\n1 failed in 0.31s"
    )
    repo = rng.choice(REPOS)
    fail_out = _pytest(rng, repo, fail_out)
    steps = [(f"pytest {path}::{test} -q", fail_out)]
    steps.append((f"sed -n '{line - 5},{line + 5}p' {src}", "    total = round(value, 0)\n..."))
    if fail:
        steps.append((f"edit {path}: relax the assertion", "File written."))
        steps.append((f"pytest {path}::{test} -q", fail_out))
        return task, steps, False
    steps.append((f"edit {src}: fix the computation at line {line}", "File written."))
    steps.append((f"pytest {path}::{test} -q", _pytest(rng, repo, ".\n1 passed in 0.28s")))
    if rng.random() < 0.7:
        steps.append(("pytest -q", f"{rng.randint(40, 300)} passed in {rng.uniform(2, 9):.1f}s"))
    steps.append(("git diff --stat", f" {src} | 2 +-\n 1 file changed, 1 insertion(+)"))
    return task, steps, True


def add_dependency(rng: random.Random, fail: bool, pick: Pick) -> Built:
    dist, module, version = rng.choice(PACKAGES)
    task = pick(
        [
            f"Add {dist} (at least {version}) as a dependency of the project.",
            f"The project now needs {dist}>={version}; install it and declare it.",
            f"Make {dist} version {version} or newer a declared requirement and check it imports.",
            f"Install {dist} {version}+ and record it in the project's dependencies.",
            f"We depend on {dist} now: add it (minimum {version}) to pyproject.",
            f"Bring in the {dist} library, version {version} or later, for the new feature.",
            f"Set the project up to use {dist} >= {version}.",
            f"I want to use {dist} here; pull it in (>= {version}) properly.",
        ]
    )
    name = dist if not fail else dist.replace("-", "_") + "s"
    steps: list[tuple[str, str]] = []
    if rng.random() < 0.5:
        steps.append(
            ("pip --version", "pip 24.0 from /home/dev/.venv/lib/python3.11 (python 3.11)")
        )
    if fail:
        steps.append(
            (
                f'pip install "{name}>={version}"',
                f"ERROR: Could not find a version that satisfies the requirement {name}>={version}"
                f"\nERROR: No matching distribution found for {name}>={version}",
            )
        )
        steps.append((f'edit pyproject.toml: add "{name}>={version}" to dependencies', "OK."))
        return task, steps, False
    steps.append(
        (
            f'pip install "{dist}>={version}"',
            f"Collecting {dist}>={version}\n  Downloading {dist}-{version}.1-py3-none-any.whl "
            f"({rng.randint(20, 900)} kB)\nInstalling collected packages: {dist}\n"
            f"Successfully installed {dist}-{version}.1",
        )
    )
    steps.append(
        (
            f'python -c "import {module}; print({module}.__version__)"',
            f"{version}.1",
        )
    )
    steps.append((f'edit pyproject.toml: add "{dist}>={version}" to dependencies', "File written."))
    steps.append(
        (
            "pip install -e .",
            "Obtaining file:///home/dev/app\n  Installing build dependencies ... done\n"
            "  Checking if build backend supports build_editable ... done\n"
            "  Getting requirements to build editable ... done\n"
            f"Requirement already satisfied: {dist}>={version} in "
            "./.venv/lib/python3.11/site-packages\n"
            "Building wheels for collected packages: app\nSuccessfully built app\n"
            "Installing collected packages: app\nSuccessfully installed app-0.1.0",
        )
    )
    return task, steps, True


def fetch_api_to_file(rng: random.Random, fail: bool, pick: Pick) -> Built:
    host = rng.choice(HOSTS)
    resource, field = rng.choice(RESOURCES)
    url = f"https://{host}/v{rng.randint(1, 3)}/{resource}"
    out = f"data/{resource}.json"
    task = pick(
        [
            f"Download {url} and save its {field} list to {out}.",
            f"Fetch the {resource} from {url} (needs the API token), store the {field} in {out}.",
            f"Call the endpoint {url} and write the {field} array to {out}.",
            f"Pull the JSON at {url} into {out}, keeping only the {field} field.",
            f"Save the {field} returned by GET {url} as {out}.",
            f"Grab the latest {resource} data from {url}; I only need {field}, written to {out}.",
            f"Query {url} with our credentials and dump {field} into {out}.",
            f"Mirror the {field} of the {resource} API ({url}) to {out}.",
        ]
    )
    steps: list[tuple[str, str]] = []
    if fail:
        steps.append((f"curl -s -o /tmp/resp.json -w '%{{http_code}}' {url}", "401"))
        steps.append((f"curl -s -o /tmp/resp.json -w '%{{http_code}}' {url}", "401"))
        return task, steps, False
    if rng.random() < 0.5:
        steps.append(("echo ${API_TOKEN:+set}", "set"))
    steps.append(
        (
            f'curl -s -H "Authorization: Bearer $API_TOKEN" -o /tmp/resp.json '
            f"-w '%{{http_code}}' {url}",
            "200",
        )
    )
    n = rng.randint(3, 250)
    steps.append((f"jq '.{field} | length' /tmp/resp.json", str(n)))
    steps.append((f"jq '.{field}' /tmp/resp.json > {out}", ""))
    steps.append((f"jq length {out}", str(n)))
    return task, steps, True


def db_add_column(rng: random.Random, fail: bool, pick: Pick) -> Built:
    table = rng.choice(TABLES)
    column, kind = rng.choice(COLUMNS)
    task = pick(
        [
            f"Add a nullable {column} column ({kind}) to the {table} table with a migration.",
            f"Write and apply an Alembic migration that adds {column} to {table}.",
            f"The {table} table needs a new {kind.lower()} field called {column}; migrate the db.",
            f"Create a schema migration adding {table}.{column} and run it.",
            f"Extend {table} with a {column} column and upgrade the database.",
            f"Schema change: {table} gets {column} ({kind}). Ship it as a migration and apply it.",
            f"We need to store {column} on {table} rows; update the database schema.",
            f"Introduce {column} in {table} via alembic and bring the db to head.",
        ]
    )
    rev = f"{rng.randrange(16**12):012x}"
    steps: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        steps.append(("alembic current", f"{rng.randrange(16**12):012x} (head)"))
    steps.append(
        (
            f'alembic revision -m "add {column} to {table}"',
            f"Generating migrations/versions/{rev}_add_{column}_to_{table}.py ...  done",
        )
    )
    steps.append(
        (
            f"edit migrations/versions/{rev}_add_{column}_to_{table}.py: "
            f"op.add_column('{table}', sa.Column('{column}', sa.{kind}(), nullable=True))",
            "File written.",
        )
    )
    if fail:
        steps.append(
            (
                "alembic upgrade head",
                f'sqlalchemy.exc.ProgrammingError: column "{column}" of relation "{table}" '
                "already exists",
            )
        )
        steps.append(("alembic upgrade head", "ERROR [alembic.util.messaging] same error"))
        return task, steps, False
    steps.append(
        (
            "alembic upgrade head",
            "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
            "INFO  [alembic.runtime.migration] Will assume transactional DDL.\n"
            f"INFO  [alembic.runtime.migration] Running upgrade -> {rev}, add {column} to {table}",
        )
    )
    steps.append(
        (
            f'psql -c "\\d {table}"',
            f" id | integer | not null\n {column} | {kind.lower()} | ",
        )
    )
    return task, steps, True


def rename_function(rng: random.Random, fail: bool, pick: Pick) -> Built:
    old, new = rng.choice(FUNCTIONS)
    task = pick(
        [
            f"Rename the function {old} to {new} across the codebase.",
            f"Every call of {old} should become {new}; do the rename everywhere.",
            f"Refactor: {old} is now called {new}. Update definitions and callers.",
            f"Change the name {old} to {new} in src and tests, keeping the tests green.",
            f"Rename {old} -> {new} throughout the project.",
            f"{old} is a bad name; call it {new} from now on, callers included.",
            f"Replace the identifier {old} with {new} in every file and check nothing broke.",
            f"Do a project-wide rename of {old} into {new}.",
        ]
    )
    files = rng.sample(
        ["src/app/users.py", "src/app/api.py", "src/app/jobs.py", "tests/test_api.py"], 3
    )
    grep_out = "\n".join(f"{f}:{rng.randint(3, 90)}:    {old}(x)" for f in files)
    steps = [(f'grep -rn "{old}" src tests', grep_out)]
    steps.append((f"sed -i 's/\\b{old}\\b/{new}/g' {' '.join(files)}", ""))
    if fail:
        steps.append(("pytest -q", "E   ImportError: cannot import name 'x' \n1 error in 0.5s"))
        return task, steps, False
    steps.append((f'grep -rn "{old}" src tests', ""))
    steps.append(("pytest -q", f"{rng.randint(40, 300)} passed in {rng.uniform(2, 9):.1f}s"))
    if rng.random() < 0.5:
        steps.append(("git diff --stat", f" {len(files)} files changed"))
    return task, steps, True


def top_error_endpoint(rng: random.Random, fail: bool, pick: Pick) -> Built:
    service = rng.choice(SERVICES)
    code = rng.choice(["500", "502", "503", "404"])
    log = f"logs/{service}/access.log"
    answer = rng.choice(ENDPOINTS)
    task = pick(
        [
            f"Which endpoint of {service} returned the most {code} responses? Check {log}.",
            f"Find the path with the highest number of HTTP {code} errors in {log}.",
            f"From the {service} access log ({log}), report the endpoint failing with {code} most.",
            f"Look through {log} and tell me where most {code}s come from.",
            f"Identify the URL path that produces the most status {code} lines in {log}.",
            f"Users see {code}s on {service}; which route is the worst offender in {log}?",
            f"Analyse {log}: what path has the most {code} status codes?",
            f"Give me the top source of {code} errors in the {service} access log.",
        ]
    )
    steps: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        steps.append((f"wc -l {log}", f"{rng.randint(10_000, 900_000)} {log}"))
    counts = sorted(rng.sample(range(3, 900), 3), reverse=True)
    others = [e for e in ENDPOINTS if e != answer][:2]
    table = "\n".join(f"{c:>7} {e}" for c, e in zip(counts, [answer] + others, strict=True))
    if fail:
        steps.append((f"grep -c ' {code} ' {log}", str(sum(counts))))
        steps.append((f"answer: {sum(counts)}", "That is a count, not an endpoint."))
        return task, steps, False
    steps.append(
        (
            f"awk '$9 == {code} {{print $7}}' {log} | sort | uniq -c | sort -rn | head -3",
            table,
        )
    )
    steps.append((f"answer: {answer} ({counts[0]} responses with status {code})", "Correct."))
    return task, steps, True


def docker_build_run(rng: random.Random, fail: bool, pick: Pick) -> Built:
    image = rng.choice(IMAGES)
    tag = f"{rng.randint(0, 3)}.{rng.randint(0, 20)}"
    port = rng.choice([8080, 8000, 5000, 9090, 3000])
    task = pick(
        [
            f"Build the Docker image {image}:{tag} and run it on port {port}.",
            f"Containerise the app as {image}:{tag}, start it, and expose port {port}.",
            f"Make a {image}:{tag} image from the Dockerfile and serve it locally on {port}.",
            f"Start the service in Docker ({image}:{tag}) listening on localhost:{port}.",
            f"Package the repo into image {image}:{tag} and launch a container on port {port}.",
            f"Ship {image}:{tag} as a container and check it answers on {port}.",
            f"Run the app via docker, image tag {image}:{tag}, mapped to host port {port}.",
            f"Spin up a local container of {image} ({tag}) on port {port}.",
        ]
    )
    steps: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        steps.append(("cat Dockerfile", 'FROM python:3.11-slim\nCOPY . /app\nCMD ["uvicorn", ...]'))
    steps.append(
        (
            f"docker build -t {image}:{tag} .",
            "[+] Building 41.2s (9/9) FINISHED\n => [1/4] FROM docker.io/library/python:3.11-slim\n"
            " => [2/4] COPY . /app\n => [3/4] RUN pip install -r requirements.txt\n"
            f" => exporting to image\n => => naming to docker.io/library/{image}:{tag}",
        )
    )
    run = f"docker run -d -p {port}:8000 --name {image} {image}:{tag}"
    if fail:
        steps.append((run, f"Error: Bind for 0.0.0.0:{port} failed: port is already allocated"))
        steps.append((run, f'Error: Conflict. The container name "/{image}" is already in use'))
        return task, steps, False
    steps.append((run, f"{rng.randrange(16**12):012x}"))
    steps.append((f"curl -s localhost:{port}/health", '{"status": "ok"}'))
    return task, steps, True


def tag_release(rng: random.Random, fail: bool, pick: Pick) -> Built:
    version = f"v{rng.randint(0, 4)}.{rng.randint(0, 15)}.{rng.randint(0, 9)}"
    task = pick(
        [
            f"Tag the current main as release {version} and push the tag.",
            f"Cut release {version}: create an annotated tag and publish it to origin.",
            f"Publish a {version} tag for the latest commit on main.",
            f"Mark HEAD of main as {version} and share the tag with the remote.",
            f"Create and push the git tag {version} for this release.",
            f"Release time: label the head of main {version} and publish the label.",
            f"We are shipping {version}; tag it in git and push to the remote.",
            f"Version {version} is ready, record it as an annotated tag on origin.",
        ]
    )
    steps = [
        ("git checkout main", "Already on 'main'"),
        ("git pull --ff-only", "Already up to date."),
    ]
    if fail:
        steps.append(
            (f"git push origin {version}", f"error: src refspec {version} does not match any")
        )
        return task, steps, False
    steps.append((f'git tag -a {version} -m "Release {version}"', ""))
    steps.append(
        (
            f"git push origin {version}",
            "Enumerating objects: 1, done.\nCounting objects: 100% (1/1), done.\n"
            "Writing objects: 100% (1/1), 171 bytes | 171.00 KiB/s, done.\n"
            f"To github.com:team/repo.git\n * [new tag]         {version} -> {version}",
        )
    )
    if rng.random() < 0.6:
        steps.append(
            (
                f"git ls-remote --tags origin {version}",
                f"{rng.randrange(16**8):08x} refs/tags/{version}",
            )
        )
    return task, steps, True


def set_config_restart(rng: random.Random, fail: bool, pick: Pick) -> Built:
    service = rng.choice(SERVICES)
    key, value, old = rng.choice(CONFIG_KEYS)
    path = f"config/{service}.env"
    task = pick(
        [
            f"Set {key} to {value} for the {service} service and restart it.",
            f"Change {key} in {path} to {value}, then restart {service}.",
            f"The {service} service should run with {key}={value}; apply it.",
            f"Update the {service} configuration so {key} is {value} and reload the service.",
            f"Configure {key}={value} in {path} and make sure {service} picks it up.",
            f"{service} must use {value} for {key}; edit its env file and bounce it.",
            f"Switch {key} of {service} from its current value to {value}, effective immediately.",
            f"Tune {service}: {key} should be {value}. Apply and restart.",
        ]
    )
    steps = [(f"grep -n {key} {path}", f"4:{key}={old}")]
    steps.append((f"sed -i 's/^{key}=.*/{key}={value}/' {path}", ""))
    if fail:
        steps.append(
            (f"systemctl status {service} --no-pager", f"{service}.service - active (running)")
        )
        steps.append(
            (f"answer: {key} is now {value}", f"The running {service} still uses {key}={old}.")
        )
        return task, steps, False
    steps.append((f"sudo systemctl restart {service}", ""))
    steps.append(
        (
            f"systemctl status {service} --no-pager",
            f"● {service}.service - {service} daemon\n"
            f"     Loaded: loaded (/etc/systemd/system/{service}.service; enabled)\n"
            "     Active: active (running) since Tue 2026-12-01 10:02:11 UTC; 2s ago\n"
            f"   Main PID: {rng.randint(1000, 60000)} (python)\n      Tasks: 9 (limit: 4915)\n"
            f"     Memory: {rng.randint(40, 400)}.0M\n        CPU: 1.2s",
        )
    )
    if rng.random() < 0.5:
        steps.append(
            (
                f"journalctl -u {service} -n 5 --no-pager",
                f"systemd[1]: Stopping {service}.service...\nsystemd[1]: Stopped {service}.service."
                f"\nsystemd[1]: Started {service}.service.\n{service}[812]: config loaded "
                f"({key}={value})\n{service}[812]: listening on :8080",
            )
        )
    return task, steps, True


KINDS: dict[str, KindBuilder] = {
    "delete_merged_branches": delete_merged_branches,
    "fix_failing_test": fix_failing_test,
    "add_dependency": add_dependency,
    "fetch_api_to_file": fetch_api_to_file,
    "db_add_column": db_add_column,
    "rename_function": rename_function,
    "top_error_endpoint": top_error_endpoint,
    "docker_build_run": docker_build_run,
    "tag_release": tag_release,
    "set_config_restart": set_config_restart,
}


def _item(
    rng: random.Random, kind: str, index: int, fail: bool, split: str, pick: Pick
) -> dict[str, Any]:
    task, steps, success = KINDS[kind](rng, fail, pick)
    repo = rng.choice(REPOS)
    return {
        "id": f"tooluse_{split}_{kind}_{index}",
        "type": kind,
        "task": task,
        "setting": _setting(rng, repo, "main"),
        "steps": [{"action": a, "observation": o} for a, o in steps],
        "success": success,
    }


def build(seed: int = 12) -> dict[str, Any]:
    """The whole domain: learned (including failures) and held-out items per kind."""
    return build_domain(
        "tooluse",
        seed,
        KINDS,
        _item,
        learned=LEARN_PER_KIND,
        failed=FAILED_PER_KIND,
        heldout=HELDOUT_PER_KIND,
    )


def main() -> None:
    run_cli(__doc__.split("\n")[0], build, OUT)


if __name__ == "__main__":
    main()
