"""The page's web application (Starlette): the form, the runs, their figures, charts and files.

Server-rendered HTML (Jinja2 templates in ``templates/``) and one small script that follows a
run's progress (``static/page.js``); nothing is fetched from outside. Each browser gets a session
cookie: it sees its own runs and uploads, not another's. A run's files are served by name from a
fixed list, and charts by a plain file name, from the run's own folder under the results folder.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..parameters import load_data
from ..scenario import PRIORITIES, list_scenarios
from .jobs import DOWNLOADS, SCENARIO_FILE, Runs
from .levers import LANGS, LEVERS, SCALES, Choice, write_files

HERE = Path(__file__).resolve().parent
COOKIE = "reformsim_session"
#: the most an upload may be (a scenario file is a few kB)
MAX_UPLOAD = 1_000_000
#: the key figures the page shows by year: summary key -> column label
KEY_FIGURES = {"budget.savings_bn": "savings, bn", "budget.bottom_up_process_savings_bn": "freed by the rules, bn",
               "budget.rationed_bn": "rationed, bn", "employment.fulltime_persons_delta": "employment, persons",
               "public_finances.net_effect_bn": "net effect, bn"}
#: charts first on the page, the rest after them in name order
CHART_ORDER = ("savings_by_line.png", "gap.png", "bottom_up_by_provision.png", "employment_public_finances.png")
CHART_NAME = re.compile(r"[a-z0-9_]+\.png")


def _session(request: Request) -> tuple[str, bool]:
    token = request.cookies.get(COOKIE, "")
    if re.fullmatch(r"[0-9a-f]{32}", token):
        return token, False
    return secrets.token_hex(16), True


def _with_cookie(response: Response, token: str, new: bool) -> Response:
    if new:
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax")
    return response


def make_app(results: Path) -> Starlette:
    """The application, writing everything under ``results``."""
    root = Path(results).resolve()
    runs = Runs(root)
    data = load_data()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    scenarios = list_scenarios()
    owned: dict[str, list[str]] = {}          # session -> its run keys

    def form_page(request, token, new, form: Choice, errors: dict, status: int = 200):
        mine = [runs.get(k) for k in owned.get(token, [])]
        context = {"title": "", "scenarios": scenarios, "form": form, "errors": errors, "levers": LEVERS,
                   "priorities": PRIORITIES, "scales": SCALES, "langs": LANGS,
                   "defaults": {lv.parameter: data.params[lv.parameter] for lv in LEVERS},
                   "runs": [j for j in mine if j is not None][::-1]}
        return _with_cookie(templates.TemplateResponse(request, "form.html", context, status_code=status), token, new)

    async def index(request: Request):
        token, new = _session(request)
        return form_page(request, token, new, Choice("baseline", "expert_group", {}), {})

    async def run(request: Request):
        token, new = _session(request)
        form = await request.form(max_files=1, max_fields=100)
        values = {k: str(form.get(k, "")) for k in
                  [lv.field for lv in LEVERS] + ["saving_bn", "phase_from", "phase_to", "priority"]}
        errors = {}
        try:
            scale = float(form.get("scale", "0.1"))
        except ValueError:
            scale = -1.0
        if scale not in SCALES:
            errors["scale"] = f"scale {form.get('scale')}: allowed {', '.join(map(str, SCALES))}"
        lang = str(form.get("lang", "en"))
        if lang not in LANGS:
            errors["lang"] = f"language '{lang}': allowed {', '.join(LANGS)}"
        names = {n for n, _ in scenarios}
        choice = Choice(str(form.get("baseline", "baseline")), str(form.get("reform", "expert_group")), values,
                        scale if scale in SCALES else 0.1, lang if lang in LANGS else "en",
                        form.get("breakdown") == "1")
        if choice.baseline not in names:
            errors["baseline"] = f"baseline '{choice.baseline}': not a shipped scenario"
        if choice.reform not in names and choice.reform != "upload":
            errors["reform"] = f"reform '{choice.reform}': not a shipped scenario or 'upload'"
        upload = None
        item = form.get("upload")
        if choice.reform == "upload" and item is not None and hasattr(item, "read"):
            upload = await item.read(MAX_UPLOAD + 1)
            if len(upload) > MAX_UPLOAD:
                errors["upload"] = f"the reform file is over {MAX_UPLOAD // 1000} kB: is it a scenario file?"
        if errors:
            return form_page(request, token, new, choice, errors, 400)
        staging = root / "staging" / token / secrets.token_hex(8)
        staging.mkdir(parents=True)
        errors = write_files(choice, staging, data, upload)
        if errors:
            shutil.rmtree(staging, ignore_errors=True)
            return form_page(request, token, new, choice, errors, 400)
        job = runs.submit(choice, staging)
        owned.setdefault(token, [])
        if job.key not in owned[token]:
            owned[token].append(job.key)
        return _with_cookie(RedirectResponse(f"/run/{job.key}", status_code=303), token, new)

    def job_of(request):
        return runs.get(request.path_params["key"])

    async def show(request: Request):
        job = job_of(request)
        if job is None:
            return Response("no such run", status_code=404)
        context = {"title": job.key, "job": job}
        if job.state == "done":
            context.update(_results(job))
        return templates.TemplateResponse(request, "run.html", context)

    async def status(request: Request):
        job = job_of(request)
        if job is None:
            return JSONResponse({"state": "unknown"}, status_code=404)
        return JSONResponse({"state": job.state, "progress": job.progress(), "message": job.message,
                             "elapsed_s": time.time() - job.started})

    async def cancel(request: Request):
        job = job_of(request)
        if job is None:
            return Response("no such run", status_code=404)
        runs.cancel(job.key)
        return RedirectResponse(f"/run/{job.key}", status_code=303)

    async def files(request: Request):
        job, name = job_of(request), request.path_params["name"]
        if job is None or job.state != "done":
            return Response("no such run", status_code=404)
        if name in DOWNLOADS:
            path = job.out / name
        elif SCENARIO_FILE.fullmatch(name):
            path = job.folder / name
        else:
            return Response("no such file", status_code=404)
        if not path.is_file():
            return Response("no such file", status_code=404)
        return FileResponse(path, filename=name)

    async def charts(request: Request):
        job, name = job_of(request), request.path_params["name"]
        if job is None or job.state != "done" or not CHART_NAME.fullmatch(name):
            return Response("no such chart", status_code=404)
        path = job.out / "charts" / name
        if not path.is_file():
            return Response("no such chart", status_code=404)
        return FileResponse(path, media_type="image/png")

    routes = [Route("/", index), Route("/run", run, methods=["POST"]),
              Route("/run/{key:str}", show), Route("/run/{key:str}/status", status),
              Route("/run/{key:str}/cancel", cancel, methods=["POST"]),
              Route("/run/{key:str}/files/{name:str}", files), Route("/run/{key:str}/charts/{name:str}", charts),
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes)
    app.state.runs = runs
    return app


def _results(job) -> dict:
    """What the page shows of a finished run: key figures by year, the breakdown, downloads,
    charts and the command line that repeats it."""
    summary = json.loads((job.out / "summary.json").read_text())
    years = list(summary["budget.savings_bn"])
    rows = []
    for y in years:
        row = []
        for key in KEY_FIGURES:
            v = summary.get(key, {}).get(y)
            row.append("" if v is None else (f"{v:,.0f}" if "persons" in key else f"{v:.3f}"))
        rows.append((y, row))
    full = "2030" if "2030" in years else years[-1]
    provisions = [(name, f"{by_year[full]:.3f}") for name, by_year in summary.get("budget.bottom_up_by_provision_bn", {}).items()]
    present = sorted(p.name for p in (job.out / "charts").glob("*.png"))
    charts = [c for c in CHART_ORDER if c in present] + [c for c in present if c not in CHART_ORDER]
    downloads = [n for n in ("report.xlsx", "summary.json") if (job.out / n).is_file()]
    downloads += sorted(p.name for p in job.folder.glob("*.toml") if SCENARIO_FILE.fullmatch(p.name))
    command = " ".join(job.command()[:3] + ["--out", "DIR"] + job.command()[5:])
    return {"columns": list(KEY_FIGURES.values()), "rows": rows, "provisions": provisions, "full_year": full,
            "charts": charts, "downloads": downloads, "command": command}
