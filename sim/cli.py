"""The command line: ``reformsim run | compare | sweep | calibrate | scenarios``.

Bad input of any kind exits with status 2 and one message on stderr naming the file, the key and
what is allowed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import InputError
from .paths import PROGRESS_ENV
from .workers import start_chart_workers


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        sys.stderr.write(f"reformsim: error: {message} (see 'reformsim {self.prog.split()[-1]} --help')\n"
                         if " " in self.prog else f"reformsim: error: {message} (see 'reformsim --help')\n")
        sys.exit(2)


def _scale(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale '{text}' is not a number") from None
    if not 0 < x <= 1:
        raise argparse.ArgumentTypeError(f"--scale {x} must be within (0, 1]")
    return x


def _seed(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed '{text}' is not an integer") from None
    if not 0 <= x < 2**63:
        raise argparse.ArgumentTypeError(f"--seed {x} must be a non-negative integer")
    return x


def _common(p):
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=_seed, default=1, help="seed of all random draws (default 1)")
    p.add_argument("--engine", choices=("numba", "numpy"), default="numba",
                   help="numba (compiled kernel, default) or numpy (reference engine)")
    p.add_argument("--scale", type=_scale, default=1.0,
                   help="share of the population simulated, weighted up (default 1)")
    p.add_argument("--population", default=None,
                   help="a Parquet population file instead of the synthetic one (schema in README)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reformsim", description="Microsimulation of the Danish employment effort "
                     "and its reform: caseloads, activities, budgets, month by month.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("run", help="simulate one scenario")
    p.add_argument("scenario", help="a scenario name in configs/ or a path to a .toml file")
    _common(p)
    p = sub.add_parser("compare", help="a baseline against a reform, with common random numbers")
    p.add_argument("baseline", help="baseline scenario (name in configs/ or path)")
    p.add_argument("reform", help="reform scenario (name in configs/ or path)")
    _common(p)
    p.add_argument("--lang", choices=("da", "en"), default="en", help="language of charts")
    p.add_argument("--no-breakdown", action="store_true",
                   help="skip the runs of subsets of the provisions (faster; no per-provision split)")
    p.add_argument("--breakdown-orders", type=_orders, default=3, metavar="N",
                   help="orders of the provisions the per-provision split averages over where it cannot "
                        "take all of them (default 3; more: a smaller sampling error, more runs)")
    p = sub.add_parser("calibrate", help="the baseline against every target in data/")
    p.add_argument("--out", default="results/calibration", help="output directory")
    p.add_argument("--seed", type=_seed, default=1)
    p.add_argument("--write", action="store_true",
                   help="solve inflows and unit costs again and write data/calibrated.csv")
    sub.add_parser("scenarios", help="list the shipped scenarios")
    p = sub.add_parser("sweep", help="many comparisons over parameter values and seeds, with "
                       "uncertainty bands (resumable)")
    p.add_argument("sweepfile", help="a sweep TOML file (see configs/sweeps/example.toml)")
    p.add_argument("--out", required=True, help="output directory; a second call with the same one "
                   "computes only the missing runs")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, default=None,
                       help="worker processes of a local Dask cluster (default: the machine's cores; "
                       "0: run in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p = sub.add_parser("replicate", help="evaluation designs inside the model: its effects beside "
                       "the studies' (data/replications.csv)")
    p.add_argument("--out", default="results/replications", help="output directory (replications.csv)")
    p.add_argument("--persons", type=_whole("--persons", 1000, 10_000_000), default=100_000,
                   help="persons in each replicated cohort (default 100,000)")
    p = sub.add_parser("serve", help="the local browser page: pick scenarios, set levers, run, download")
    p.add_argument("--port", type=_port, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this "
                   "machine only)")
    p.add_argument("--results", default="results/page", help="folder of the page's runs and uploads "
                   "(default results/page); nothing is written outside it")
    return parser


def _whole(option: str, low: int, high: int | None = None):
    """An argparse type for ``option``: a whole number from ``low`` (to ``high``), else a message
    that says what is allowed."""
    allowed = f"within [{low}, {high}]" if high is not None else f"{low} or more"

    def parse(text: str) -> int:
        try:
            x = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} '{text}' is not a whole number") from None
        if x < low or (high is not None and x > high):
            raise argparse.ArgumentTypeError(f"{option} {x} must be {allowed}")
        return x
    return parse


_port = _whole("--port", 0, 65535)
_workers = _whole("--workers", 0)
_orders = _whole("--breakdown-orders", 1, 1000)


def _start(args, scenarios: list[str]):
    """What ``run`` and ``compare`` do first, before they load pandas, numba and pydantic: check
    that the output folder can be made, that the scenario files exist and that
    ``$REFORMSIM_CHART_WORKERS`` is a number. Returns (output folder, number of chart workers)."""
    from .paths import prepare_out, scenario_path
    from .workers import chart_worker_count
    out = prepare_out(args.out)
    for name in scenarios:
        scenario_path(name)
    return out, chart_worker_count()


def cmd_run(args) -> int:
    t0 = time.perf_counter()
    out, n_workers = _start(args, [args.scenario])
    from .scenario import load_scenario
    scenario = load_scenario(args.scenario)
    workers = start_chart_workers(n_workers)      # the charts' imports run while this simulates
    try:
        from .report import write_run
        from .simulation import simulate
        results = simulate(scenario, seed=args.seed, engine=args.engine, scale=args.scale,
                           population_file=args.population)
        summary = write_run(results, out, time.perf_counter() - t0, workers=workers)
    finally:
        if workers is not None:
            workers.shutdown(cancel_futures=True)
    print(f"{results.scenario.name}: {results.scenario.months[0]} to {results.scenario.months[-1]}, "
          f"engine {args.engine}, scale {args.scale}, {time.perf_counter() - t0:.1f} s")
    for key in ("sick.persons_per_year", "sick.reaching_week22_per_year",
                "sick.to_job_clarification_per_year", "budget.effort_baseline_bn"):
        print(f"  {key:40s} {summary[key]:>14,.1f}")
    print(f"outputs in {out}/")
    return 0


def cmd_compare(args) -> int:
    t0 = time.perf_counter()
    out, n_workers = _start(args, [args.baseline, args.reform])
    from .scenario import load_scenario
    baseline = load_scenario(args.baseline)
    reform = load_scenario(args.reform, baseline.data)
    workers = start_chart_workers(n_workers)      # the charts' imports run while this simulates
    try:
        from tqdm import tqdm

        from .comparison import compare
        from .report import write_compare
        bar = tqdm(desc="simulating", unit="run", disable=None, leave=False)

        progress_file = os.environ.get(PROGRESS_ENV)

        def tell(msg):
            bar.set_postfix_str(msg)
            bar.update(1)
            if progress_file:                 # the browser page follows the run here
                with open(progress_file, "a") as fh:
                    fh.write(msg + "\n")
        comp = compare(baseline, reform, seed=args.seed, engine=args.engine, scale=args.scale,
                       population_file=args.population, breakdown=not args.no_breakdown, progress=tell,
                       n_orders=args.breakdown_orders)
        bar.close()
        summary = write_compare(comp, out, time.perf_counter() - t0, args.lang, workers=workers)
    finally:
        if workers is not None:
            workers.shutdown(cancel_futures=True)
    years = [str(y) for y in comp.years]
    print(f"{comp.baseline.scenario.name} vs {comp.reform.scenario.name}: {years[0]}-{years[-1]}, "
          f"engine {args.engine}, scale {args.scale}, {time.perf_counter() - t0:.1f} s")
    print(f"  {'year':>6} {'savings bn':>11} {'bottom-up bn':>13} {'employment':>11} {'net bn':>8}")
    for y in years:
        print(f"  {y:>6} {summary['budget.savings_bn'][y]:>11.3f} "
              f"{summary['budget.bottom_up_process_savings_bn'][y]:>13.3f} "
              f"{summary['employment.fulltime_persons_delta'][y]:>11,.0f} "
              f"{summary['public_finances.net_effect_bn'][y]:>8.3f}")
    print(f"outputs in {out}/")
    return 0


def cmd_calibrate(args) -> int:
    import dataclasses

    import pandas as pd

    from . import budget as money
    from .calibration import (CALIBRATED_ITEMS, FIXED_SHARE_TARGET, REFORM_SCENARIO, REFORM_YEAR, duration_profile,
                              occupancy_matrix, reform_report, report, solve_caseworker_time,
                              solve_fixed_share, solve_inflows, solve_external_share, solve_offer_costs,
                              write_calibrated, write_parameter)
    from .comparison import compare
    from .parameters import FIXED_SHARE
    from .summary import comparison_summary
    from .parameters import load_data
    from .report import prepare_out, write_json
    from .summary import baseline_summary
    from .simulation import simulate
    out = prepare_out(args.out)
    data = load_data()
    if args.write:
        print("measuring time in each state per entrant (cohort simulations) ...", flush=True)
        M, F = occupancy_matrix(data)
        inflows, stocks = solve_inflows(data, M, F)
        costs = {item: data.calibrated[f"unit_cost.{item}"] for item in CALIBRATED_ITEMS
                 if f"unit_cost.{item}" in data.calibrated}
        write_calibrated(data, inflows, stocks, costs)
        data = load_data()
        print("solving unit costs against the effort lines ...", flush=True)
        res = simulate("baseline", seed=args.seed, data=data)
        try:
            costs, youth_factor = solve_offer_costs(res, data)
        except ValueError as exc:
            raise InputError(f"{data.directory}/{exc}") from None
        try:
            caseworker = solve_caseworker_time(res, data)
        except ValueError as exc:
            raise InputError(f"{data.directory / 'targets.csv'}: {exc}") from None
        # the external share is solved on the new unit costs, as they will be written
        with_costs = dataclasses.replace(data, calibrated={**data.calibrated, **{
            f"unit_cost.{item}": round(v, 2) for item, v in costs.items()},
            money.TIME_SCALE: round(caseworker[0], 4), money.FURTHEST_FACTOR: round(caseworker[1], 4),
            money.YOUTH_OFFER_FACTOR: round(youth_factor, 4)})
        try:
            share = solve_external_share(res, with_costs)
        except ValueError as exc:
            raise InputError(f"{data.directory / 'targets.csv'}: effort.external_providers_bn: {exc}") from None
        write_calibrated(data, inflows, stocks, costs, share, caseworker, youth_factor)
        data = load_data()
        print(f"wrote {data.directory / 'calibrated.csv'}")
    print(f"comparing baseline with {REFORM_SCENARIO} for the reform targets ...", flush=True)
    reform = comparison_summary(compare("baseline", REFORM_SCENARIO, seed=args.seed, data=data, breakdown=False))
    if args.write:
        try:
            share = solve_fixed_share(reform["budget.bottom_up_process_savings_bn"][str(REFORM_YEAR)],
                                      float(data.params[FIXED_SHARE]), data.target(FIXED_SHARE_TARGET))
        except ValueError as exc:
            raise InputError(f"{data.directory / 'targets.csv'}: {FIXED_SHARE_TARGET}: {exc}") from None
        write_parameter(data, FIXED_SHARE, round(share, 4))
        data = load_data()
        print(f"wrote {FIXED_SHARE} = {round(share, 4)} to {data.directory / 'parameters.csv'}")
        reform = comparison_summary(compare("baseline", REFORM_SCENARIO, seed=args.seed, data=data,
                                            breakdown=False))
    res = simulate("baseline", seed=args.seed, data=data)
    budget = money.budget_table(res, data)
    summary = baseline_summary(res, budget)
    table = pd.concat([report(res, data, summary), reform_report(data, reform)], ignore_index=True)
    # how the effort is spent, under the targets' names (docs/effort.md)
    summary.update({t: float(m) for t, m in zip(table["target"], table["model"])
                    if t.startswith(("effort.", "flows.", "reform."))})
    profile = duration_profile(res, data)
    table.to_csv(out / "calibration.csv", index=False)
    profile.to_csv(out / "sick_duration_profile.csv", index=False)
    write_json(out / "summary.json", summary)
    with pd.option_context("display.width", 140, "display.max_colwidth", 40):
        print(f"Baseline {res.base_year} (roles calibrated, reported) and {REFORM_SCENARIO} {REFORM_YEAR} "
              f"(role reform) against the targets in data/targets.csv (seed {args.seed}):")
        print(table[["target", "value", "model", "deviation", "tolerance", "within", "role"]]
              .to_string(index=False, float_format=lambda x: f"{x:,.3f}"))
        print("\nSick stock by duration (shares; 2012 table, pre-2014 rules):")
        print(profile.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\n{int(table['within'].sum())} of {len(table)} targets within tolerance; "
          f"tables in {out}/")
    return 0


def cmd_scenarios(args) -> int:
    from .scenario import list_scenarios
    for name, desc in list_scenarios():
        print(f"{name:16s} {desc}")
    return 0


def cmd_sweep(args) -> int:
    import signal

    from .sweep import run_sweep

    def stop(_signum, _frame):      # SIGTERM: stop like Ctrl-C, closing the cluster; runs written stay
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    t0 = time.perf_counter()
    df = run_sweep(args.sweepfile, args.out, workers=args.workers, scheduler=args.scheduler,
                   retry_failed=args.retry_failed)
    out = Path(args.out)
    a = df.attrs
    print(f"{args.sweepfile}: {df['run_id'].nunique()} runs ({a['computed']} computed now, "
          f"{a['reused']} reused, {a['failed']} failed), {time.perf_counter() - t0:.1f} s")
    import pandas as pd
    bands = pd.read_csv(out / "bands.csv")
    if len(bands):
        last = bands[bands["year"] == bands["year"].max()]
        print(f"  {int(last['year'].iloc[0])}: median [5 %, 95 %] across draws, Monte Carlo s.e.")
        for variant, rows in last.groupby("variant", sort=False):
            print(f"  {variant}")
            for row in rows.itertuples():
                print(f"    {row.measure:17s} {row.p50:>12,.3f} [{row.p5:,.3f}, {row.p95:,.3f}]  "
                      f"s.e. {row.mc_se:,.3f}  ({row.unit})")
    print(f"outputs in {out}/")
    if a["failed"]:
        # the others' outputs are written; the status tells a batch job that some runs failed
        sys.stderr.write(f"reformsim: {a['failed']} run(s) failed: status 'failed' with the error in "
                         f"{out}/results.parquet (--retry-failed runs them again)\n")
        return 1
    return 0


def cmd_replicate(args) -> int:
    from .parameters import load_data
    from .paths import prepare_out
    from .replication import replicate
    out = prepare_out(args.out)
    table = replicate(load_data(), args.persons)
    table.to_csv(out / "replications.csv", index=False)
    print(f"{'replication':40s} {'study':>8} {'range':>15} {'model':>8}")
    for r in table.itertuples():
        print(f"{r.replication:40s} {r.value:>8.2f} [{r.low:>5.2f}, {r.high:>5.2f}] {r.model:>8.2f}"
              f"{'' if r.within else '  NOT within'}")
    print(f"  (weeks on benefit per person over the study's horizon, treatment minus control)\noutputs in {out}/")
    return 0


def cmd_serve(args) -> int:
    import socket

    import uvicorn

    from .page.app import make_app
    results = Path(args.results)
    try:
        results.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--results {results}: cannot create the folder ({exc.strerror})") from None
    try:
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        raise InputError(f"--host {args.host} --port {args.port}: cannot listen there ({exc.strerror})") from None
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"reformsim page at http://{host}:{port}/ (runs in {results.resolve()}/; Ctrl-C stops it)", flush=True)
    server = uvicorn.Server(uvicorn.Config(make_app(results), log_level="warning"))
    server.run(sockets=[sock])
    return 0


def main(argv=None) -> int:
    """Run one command; returns its exit status (the program's: ``sys.exit(main())``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        commands = {"run": cmd_run, "compare": cmd_compare, "calibrate": cmd_calibrate,
                    "scenarios": cmd_scenarios, "sweep": cmd_sweep, "serve": cmd_serve,
                    "replicate": cmd_replicate}
        status = commands[args.command](args)
    except InputError as exc:
        sys.stderr.write(f"reformsim: error: {exc}\n")
        status = 2
    except KeyboardInterrupt:
        sys.stderr.write("reformsim: interrupted\n")
        status = 130
    if argv is None:
        # the program ends next: the interpreter's last garbage collections need not walk the
        # run's objects (gc.freeze, a documented call; about 0.3 s after a compare)
        import gc
        gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(main())
