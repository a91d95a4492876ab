"""Imported by the chart workers' fork server (see :mod:`sim.workers`): draws one small
throw-away chart, so that the workers forked from the server find the fonts loaded and the PNG
and SVG writers imported (about 0.3 s off each worker's first chart). A failure here is no
failure of the charts: the server would stop on it, so it is ignored, warnings included."""

import warnings

from .charts import warm_up

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        warm_up()
    except Exception:   # noqa: BLE001  (the workers then warm up on their first chart)
        pass
