"""Handler cold import against its floor, in an environment holding only what Lambda gives a function.

The environment, built once under .bench/ and rebuilt when a pin changes:

- the layer: exactly the pins of layers/common/requirements.txt (what ``sam build`` puts in the
  CommonLayer), installed for this machine, plus the zerovisit package read from the source tree;
- the runtime's SDK: the boto3 and s3transfer that the python3.13 runtime ships, pinned as data in
  data/lambda_runtime.json with its source.

Not ``sam build`` itself: the template builds the layer for arm64, whose native wheels (pydantic_core,
PyYAML) do not load on this machine; the same pins installed for this machine are the same code.

The layer's bytecode is what the layer ships: ``layers/common/Makefile`` compiles the layer with
``LAYER_BYTECODE`` (unchecked-hash .pyc files, valid whatever times the zip gives the files), and the
environment's layer and a fresh copy of the zerovisit package are compiled the same way. The
runtime's SDK keeps the bytecode pip compiled, as the Lambda runtime ships its own.

Every import runs in a fresh interpreter started with ``-S -E -B`` (no site-packages, no PYTHON*
variables, no bytecode written: /opt is read-only in Lambda, so what the layer lacks is compiled on
every cold start), its path set to [layer, layer source, runtime SDK] as Lambda orders /opt/python
before the runtime's own packages. Each handler's import alternates with the floor
``import boto3; boto3.client("dynamodb")``. The ratio is median handler over median floor. Beside
them, ``libraries`` imports what every step handler's libraries cost with no project code (pynamodb,
Powertools' Logger, pydantic with one model): a handler's distance from it is the project's own.

Models are built on first use (zerovisit.domain.base), so each handler is also timed with the models
and type adapters its first invocation builds (recorded from real cases by first_use.py).
``--baseline REV`` times, beside them, the package and handlers of another commit in the same run.

``--tracer`` measures what tracing would add (docs/architecture.md, "Tracing"): the API handler's
import alternates with the same import followed by ``Tracer()``, as a traced handler makes it at
import, with aws-xray-sdk and wrapt at the pins of requirements.lock beside the layer (the layer
does not hold them) and ``LAMBDA_TASK_ROOT`` set, as in Lambda, so that the Tracer is enabled and
patches boto3.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bench.first_use import recorded_uses
from infra.bench.results import BENCH_DIR, ROOT, record
from infra.local.template import load_template

FUNCTIONS_DIR = ROOT / "functions"
LOCKED_REQUIREMENTS = ROOT / "requirements.lock"
TRACER_PACKAGES = ("aws-xray-sdk", "wrapt")  # what Tracer needs that the layer lacks
LIBRARIES = "libraries"  # a target: what a step handler's libraries cost with no project code
TRACED = "traced:"  # a target prefix: construct a Tracer after importing the handler
LAYER_SOURCE = ROOT / "layers" / "common"
LAYER_REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
RUNTIME_DATA = Path(__file__).parent / "data" / "lambda_runtime.json"
TARGET_RATIO = 1.2
FirstUse = dict[str, list[str]]  # "models" and "adapters": what a function's first invocation builds
BASELINE_PATHS = ("layers/common", "functions")  # what --baseline takes from the other commit
# How layers/common/Makefile compiles the layer; keep the two the same.
LAYER_BYTECODE = ("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash")
# Modules whose presence after an import says something about what the handler pulls in.
WATCHED = (
    "boto3",
    "s3transfer",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.event_handler",
    "zerovisit.storage.tables",
)

# What the handlers read at import (cold_start); dummy values, nothing is called at import.
IMPORT_ENV = {
    "CASES_TABLE": "bench-cases",
    "CATALOG_TABLE": "bench-catalog",
    "CERTIFICATES_TABLE": "bench-certificates",
    "EVENT_BUS_NAME": "bench-bus",
    "CERTIFICATE_KEY_ID": "00000000-0000-0000-0000-000000000000",
    "CERTIFICATE_SIGNING_ALGORITHM": "ECDSA_SHA_256",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_CHILD = """
import importlib, importlib.util, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
target = sys.argv[2]
started, cpu_started = time.perf_counter(), time.process_time()
traced = target.startswith("traced:")
built = adapters_built = 0
target = target.removeprefix("traced:")
if target == "floor":
    import boto3
    boto3.client("dynamodb")
elif target == "libraries":
    import pynamodb.models
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel
    class Event(BaseModel):
        case_id: str
    Logger()
else:
    sys.path.insert(0, target.rsplit("/", 1)[0])  # as in Lambda, the function's folder is on the path
    spec = importlib.util.spec_from_file_location("app", target)
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "handler", None)):
        raise SystemExit(f"{target} has no callable handler")
    first_use = json.loads(sys.argv[4])  # what its first invocation builds, built as that use would
    def model_named(qualified):
        module_name, _, name = qualified.partition(":")
        return getattr(importlib.import_module(module_name), name)
    if first_use.get("adapters"):  # first, as the router validates a request before the route runs
        from pydantic import TypeAdapter
        for qualified in first_use["adapters"]:
            adapter = TypeAdapter(model_named(qualified))  # deferred, as the model is
            adapter.rebuild()
            adapters_built += adapter.pydantic_complete
    for qualified in first_use.get("models", []):
        model = model_named(qualified)
        unbuilt = not model.__pydantic_complete__
        model.model_rebuild()
        built += unbuilt and model.__pydantic_complete__
    if traced:
        from aws_lambda_powertools import Tracer
        if Tracer().disabled:
            raise SystemExit("Tracer disabled: LAMBDA_TASK_ROOT unset or POWERTOOLS_TRACE_DISABLED set")
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
watched = [name for name in json.loads(sys.argv[3]) if name in sys.modules]
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "modules": len(sys.modules), "watched": watched,
                  "built": built, "adapters_built": adapters_built}))
"""


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    modules: int
    watched: list[str]
    built: int = 0  # models of the first-use list that the import left unbuilt and were built after
    adapters_built: int = 0  # type adapters of the first-use list built


def runtime_sdk() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RUNTIME_DATA.read_text(encoding="utf-8"))
    return data


def environment_paths(layer_source: Path = LAYER_SOURCE) -> list[Path]:
    """Build (once per set of pins) and return the import path: layer, layer source, runtime SDK."""
    sdk = runtime_sdk()["sdk"]
    pins = LAYER_REQUIREMENTS.read_bytes() + json.dumps(sdk, sort_keys=True).encode()
    home = BENCH_DIR / "import-env" / hashlib.sha256(pins).hexdigest()[:12]
    layer, runtime = home / "layer", home / "runtime"
    if not (home / ".complete").is_file():
        print(f"  building the import environment in {home.relative_to(ROOT)} (pip, once per set of pins)")
        _pip_install(layer, ["-r", str(LAYER_REQUIREMENTS)])
        _compile_as_the_layer(layer)
        _pip_install(runtime, [f"{name}=={version}" for name, version in sorted(sdk.items())])
        (home / ".complete").write_text("ok\n", encoding="utf-8")
    source = home / "source" / hashlib.sha256(str(layer_source).encode()).hexdigest()[:12]
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(
        layer_source / "zerovisit", source / "zerovisit", ignore=shutil.ignore_patterns("__pycache__")
    )
    _compile_as_the_layer(source)
    return [layer, source, runtime]


def tracer_packages(layer_paths: list[Path]) -> Path:
    """aws-xray-sdk and wrapt at requirements.lock's pins, installed once beside the environment."""
    pins = {
        name: line.split("==", 1)[1].strip()
        for line in LOCKED_REQUIREMENTS.read_text(encoding="utf-8").splitlines()
        if (name := line.split("==", 1)[0].strip().lower()) in TRACER_PACKAGES
    }
    if set(pins) != set(TRACER_PACKAGES):
        raise RuntimeError(f"requirements.lock pins none of {sorted(set(TRACER_PACKAGES) - set(pins))}")
    requirements = [f"{name}=={version}" for name, version in sorted(pins.items())]
    home = layer_paths[0].parent / (
        "tracer-" + hashlib.sha256(" ".join(requirements).encode()).hexdigest()[:12]
    )
    if not (home / ".complete").is_file():
        print(f"  installing {', '.join(requirements)} in {home.relative_to(ROOT)} (pip, once)")
        _pip_install(home, requirements)
        _compile_as_the_layer(home)
        (home / ".complete").write_text("ok\n", encoding="utf-8")
    return home


def bench_tracer(runs: int, layer_source: Path = LAYER_SOURCE, function: str = "api") -> dict[str, Any]:
    """The handler's import alternating with the same import followed by an enabled ``Tracer()``."""
    paths = environment_paths(layer_source)
    paths.insert(1, tracer_packages(paths))
    app = str(FUNCTIONS_DIR / function / "app.py")
    env = {**import_environment(), "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR / function)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    print(f"== what Powertools Tracer adds to the {function} handler's cold import (median of {runs})")
    for target in (app, TRACED + app):
        time_import(target, paths, env)  # warm-up, as for the handlers
    plain: list[Sample] = []
    traced: list[Sample] = []
    for _ in range(runs):
        plain.append(time_import(app, paths, env))
        traced.append(time_import(TRACED + app, paths, env))
    cpu, traced_cpu = _median_ms(plain, cpu=True), _median_ms(traced, cpu=True)
    wall, traced_wall = _median_ms(plain, cpu=False), _median_ms(traced, cpu=False)
    modules, traced_modules = plain[0].modules, traced[0].modules
    print(
        f"  {function:<22} {cpu:7.1f} ms CPU, with Tracer() {traced_cpu:.1f} ms: +{traced_cpu - cpu:.1f} ms"
        f" ({(traced_cpu - cpu) / cpu:.0%}); by wall {wall:.1f} -> {traced_wall:.1f} ms;"
        f" modules {modules} -> {traced_modules}"
    )
    return {
        "runs": runs,
        "function": function,
        "cpu_ms": round(cpu, 1),
        "traced_cpu_ms": round(traced_cpu, 1),
        "added_cpu_ms": round(traced_cpu - cpu, 1),
        "wall_ms": round(wall, 1),
        "traced_wall_ms": round(traced_wall, 1),
        "modules": modules,
        "traced_modules": traced_modules,
    }


def _compile_as_the_layer(directory: Path) -> None:
    for cache in list(directory.rglob("__pycache__")):
        shutil.rmtree(cache)
    subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, *LAYER_BYTECODE, str(directory)], check=True, timeout=600
    )


def _pip_install(target: Path, requirements: list[str]) -> None:
    """Exactly the pins given (--no-deps: the requirement files list every dependency)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter's pip with fixed arguments
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"pip install into {target} failed: {last}")


def import_environment() -> dict[str, str]:
    """The dummy variables above, plus every other variable the template gives functions: its literal
    value where it has one (POWERTOOLS_LOG_LEVEL must be a level), a parameter's default where it
    refers to one (SUPERVISION_REGIONS must be division codes), a dummy for another intrinsic; and
    the runtime's name, which Lambda gives every function (zerovisit.coldstart reads it)."""
    template = load_template()
    defaults = {name: p["Default"] for name, p in template.get("Parameters", {}).items() if "Default" in p}
    declared: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            declared.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    for name, value in declared.items():
        if isinstance(value, dict) and value.get("Ref") in defaults:
            value = defaults[value["Ref"]]
        env[name] = str(value) if isinstance(value, str | int | float) else f"bench-{name.lower()}"
    env.update(IMPORT_ENV)
    env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{template['Globals']['Function']['Runtime']}"  # as Lambda sets it
    return env


def time_import(
    target: str, paths: list[Path], env: dict[str, str], first_use: FirstUse | None = None
) -> Sample:
    """One import of `target` (an app.py, or "floor") in a fresh, isolated interpreter; with
    `first_use`, the import followed by building its models and type adapters ("module:Class"), as
    the handler's first invocation builds them."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [
            sys.executable,
            "-S",
            "-E",
            "-B",
            "-c",
            _CHILD,
            json.dumps([str(p) for p in paths]),
            target,
            json.dumps(WATCHED),
            json.dumps(first_use or {}),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(last)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return Sample(
        float(figures["seconds"]),
        float(figures["cpu_seconds"]),
        int(figures["modules"]),
        list(figures["watched"]),
        int(figures["built"]),
        int(figures["adapters_built"]),
    )


def _median_ms(samples: list[Sample], cpu: bool) -> float:
    return statistics.median(s.cpu_seconds if cpu else s.seconds for s in samples) * 1000


def _timed(samples: list[Sample], failures: dict[str, str], name: str, *args: Any) -> bool:
    """One ``time_import(*args)`` added to `samples`, or its failure kept under `name` (then no more
    are taken for it); True when it was timed."""
    if name in failures:
        return False
    try:
        samples.append(time_import(*args))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        failures[name] = str(e)
        return False
    return True


def _against_floor(samples: list[Sample], floor: list[Sample]) -> dict[str, Any]:
    """A handler's medians and its ratios to the floor runs that alternated with it."""
    cpu, wall = _median_ms(samples, cpu=True), _median_ms(samples, cpu=False)
    floor_cpu, floor_wall = _median_ms(floor, cpu=True), _median_ms(floor, cpu=False)
    return {
        "cpu_ms": round(cpu, 1),
        "wall_ms": round(wall, 1),
        "floor_cpu_ms": round(floor_cpu, 1),
        "floor_wall_ms": round(floor_wall, 1),
        "ratio": round(cpu / floor_cpu, 3),
        "wall_ratio": round(wall / floor_wall, 3),
        "modules": samples[0].modules,
        "loads": samples[0].watched,
    }


def report_first_use(handlers: dict[str, Any], recorded: bool) -> None:
    """Each handler's import followed by what its first invocation builds, against the floor."""
    if not recorded:
        return
    print(
        "  with the models and type adapters each handler's first invocation builds (recorded from its"
        " invocations in four cases; models are built on first use):"
    )
    for name, figures in handlers.items():
        used = figures.get("first_use")
        if used is None:
            if "ratio" in figures:
                print(f"    {name:<20} not invoked by a case: nothing recorded")
            continue
        if "error" in used:
            print(f"    {name:<20} FAILED: {used['error']}")
            continue
        print(
            f"    {name:<20} {used['cpu_ms']:7.1f} ms CPU  {used['ratio']:4.2f}x its floor"
            f" ({used['wall_ratio']:4.2f}x by wall), +{used['cpu_ms'] - figures['cpu_ms']:.1f} ms"
            f" over the import for {len(used.get('models', []))} models,"
            f" {len(used.get('adapters', []))} adapters"
            + (f"; {used['built_at_import']} models built by the import" if used["built_at_import"] else "")
        )


def handler_apps() -> list[Path]:
    return sorted(p / "app.py" for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file())


def baseline_source(revision: str) -> Path:
    """The zerovisit package as it was at `revision`, with the handlers of that commit beside it
    (``baseline_app``), extracted once under .bench/."""
    commit = subprocess.run(  # noqa: S603 - git with a revision the user named
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if commit.returncode != 0:
        raise SystemExit(f"--baseline {revision}: no such commit")
    sha = commit.stdout.strip()
    home = BENCH_DIR / "baseline" / sha  # by its hash: a branch name moves on
    marker, extracted = home / ".complete", " ".join(BASELINE_PATHS) + "\n"
    if not marker.is_file() or marker.read_text(encoding="utf-8") != extracted:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        archive = subprocess.run(  # noqa: S603 - git with a revision the user named
            ["git", "archive", sha, *BASELINE_PATHS],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(home, filter="data")
        marker.write_text(extracted, encoding="utf-8")
    return home / "layers" / "common"


def baseline_app(baseline: Path, function: str) -> Path:
    """The handler of `function` as it was in the baseline's commit."""
    return baseline.parents[1] / "functions" / function / "app.py"


def bench_imports(
    runs: int,
    layer_source: Path = LAYER_SOURCE,
    baseline: Path | None = None,
    first_use: dict[str, FirstUse] | None = None,
) -> dict[str, Any]:
    """Alternate floor and handler imports, `runs` of each per handler; print and return the figures.
    With a baseline (another commit's package and handlers), its import of each handler alternates
    with them too.
    With `first_use` (per function folder, what its first invocation builds: first_use.py), so
    does each handler's import followed by those builds."""
    sdk = runtime_sdk()
    print(
        f"== handler cold import against the floor (layer pins + {sdk['runtime']} runtime SDK "
        f"boto3 {sdk['sdk']['boto3']}; fresh interpreter each; median of {runs})"
    )
    paths = environment_paths(layer_source)
    baseline_paths = environment_paths(baseline) if baseline else None
    env = import_environment()
    apps = handler_apps()
    for target in ["floor", LIBRARIES, *(str(app) for app in apps)]:
        time_import(target, paths, env)  # warm-up: the files in the page cache for every run alike
    baseline_apps = {  # a function the baseline's commit did not have is left out of the baseline
        app.parent.name: str(baseline_app(baseline, app.parent.name))
        for app in apps
        if baseline and baseline_app(baseline, app.parent.name).is_file()
    }
    baseline_failures: dict[str, str] = {}
    for name, earlier in baseline_apps.items():  # warm-up; a handler that fails is left out
        _timed([], baseline_failures, name, earlier, baseline_paths, env)
    floor_samples: dict[str, list[Sample]] = {app.parent.name: [] for app in apps}
    handler_samples: dict[str, list[Sample]] = {app.parent.name: [] for app in apps}
    baseline_samples: dict[str, list[Sample]] = {app.parent.name: [] for app in apps}
    first_use_samples: dict[str, list[Sample]] = {app.parent.name: [] for app in apps}
    first_use = first_use or {}
    first_use_failures: dict[str, str] = {}
    library_samples: list[Sample] = []
    failures: dict[str, str] = {}
    for _ in range(runs):
        library_samples.append(time_import(LIBRARIES, paths, env))
        for app in apps:
            name = app.parent.name
            if name in failures:
                continue
            floor_samples[name].append(time_import("floor", paths, env))
            if not _timed(handler_samples[name], failures, name, str(app), paths, env):
                continue
            if name in baseline_apps:
                _timed(
                    baseline_samples[name], baseline_failures, name, baseline_apps[name], baseline_paths, env
                )
            if first_use.get(name):
                _timed(
                    first_use_samples[name], first_use_failures, name, str(app), paths, env, first_use[name]
                )
    all_floor = [s for samples in floor_samples.values() for s in samples]
    floor_cpu = _median_ms(all_floor, cpu=True)
    floor_wall = _median_ms(all_floor, cpu=False)
    print(
        f"  {'floor':<22} {floor_cpu:7.1f} ms CPU {floor_wall:7.1f} ms wall"
        f"  (import boto3; boto3.client('dynamodb'), {len(all_floor)} runs)"
    )
    libraries = _against_floor(library_samples, all_floor)
    print(
        f"  {'libraries alone':<22} {libraries['cpu_ms']:7.1f} ms CPU {libraries['wall_ms']:7.1f} ms wall"
        f"  {libraries['ratio']:4.2f}x the floor: pynamodb, Powertools' Logger and pydantic with one model,"
        " no project code"
    )
    handlers: dict[str, Any] = {}
    for app in apps:
        name = app.parent.name
        if name in failures:
            print(f"  {name:<22} FAILED: {failures[name]}")
            handlers[name] = {"error": failures[name]}
            continue
        figures = _against_floor(handler_samples[name], floor_samples[name])
        if name in baseline_failures:
            figures["baseline_error"] = baseline_failures[name]
        elif baseline_samples[name]:
            before = _against_floor(baseline_samples[name], floor_samples[name])
            figures["baseline_ratio"] = before["ratio"]
            figures["baseline_wall_ratio"] = before["wall_ratio"]
        if name in first_use_failures:
            figures["first_use"] = {"error": first_use_failures[name]}
        elif first_use_samples[name]:
            used = _against_floor(first_use_samples[name], floor_samples[name])
            models = first_use[name].get("models", [])
            figures["first_use"] = {
                **first_use[name],
                "built_at_import": len(models) - first_use_samples[name][0].built,
                "cpu_ms": used["cpu_ms"],
                "ratio": used["ratio"],
                "wall_ratio": used["wall_ratio"],
            }
        verdict = "ok" if figures["ratio"] <= TARGET_RATIO else f"over {TARGET_RATIO}x"
        print(
            f"  {name:<22} {figures['cpu_ms']:7.1f} ms CPU {figures['wall_ms']:7.1f} ms wall"
            f"  {figures['ratio']:4.2f}x its floor ({figures['wall_ratio']:4.2f}x by wall)  {verdict:<9}"
            f" {figures['modules']} modules; loads {', '.join(figures['loads']) or 'none watched'}"
            + (f"; baseline {figures['baseline_ratio']:.2f}x" if "baseline_ratio" in figures else "")
            + ("; baseline FAILED" if "baseline_error" in figures else "")
        )
        handlers[name] = figures
    report_first_use(handlers, bool(first_use))
    ratios = [h["ratio"] for h in handlers.values() if "ratio" in h]
    if ratios:
        over = sorted(name for name, h in handlers.items() if h.get("ratio", 0) > TARGET_RATIO)
        print(
            f"  ratios (CPU): min {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x, "
            f"max {max(ratios):.2f}x; over {TARGET_RATIO}x: {', '.join(over) or 'none'}"
        )
        print(
            "  (the ratio is by CPU time, which other processes on this shared machine do not inflate;"
            " a Lambda\n   cold start has its vCPU to itself, so CPU time is its wall time here. Wall ratios"
            " are shown beside.)"
        )
    return {
        "runs": runs,
        "runtime_sdk": sdk["sdk"],
        "python": sys.version.split()[0],
        "floor_cpu_ms": round(floor_cpu, 1),
        "floor_wall_ms": round(floor_wall, 1),
        "target_ratio": TARGET_RATIO,
        "libraries": libraries,
        "baseline": str(baseline.relative_to(ROOT)) if baseline else None,
        "handlers": handlers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="imports of each handler and of its floor (default 5)"
    )
    parser.add_argument(
        "--layer-source",
        type=Path,
        default=LAYER_SOURCE,
        help="the directory holding the zerovisit package (default layers/common; another commit's)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also time each handler and the zerovisit package as they were at commit REV",
    )
    parser.add_argument(
        "--tracer",
        action="store_true",
        help="instead, time what Powertools Tracer adds to the API handler's import (installs aws-xray-sdk)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.tracer:
        path = record("tracer", bench_tracer(args.runs, args.layer_source.resolve()))
        print(f"  figures written to {path.relative_to(ROOT)}")
        return 0
    path = record(
        "imports",
        bench_imports(
            args.runs,
            args.layer_source.resolve(),
            baseline_source(args.baseline) if args.baseline else None,
            # recorded by running this tree's handlers: not another tree's
            first_use=recorded_uses() if args.layer_source.resolve() == LAYER_SOURCE else None,
        ),
    )
    print(f"  figures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
