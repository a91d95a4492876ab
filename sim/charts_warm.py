"""Imported by the chart workers' fork server (see :mod:`sim.workers`): draws one small
throw-away chart, so that the workers forked from the server find the fonts loaded and the PNG
and SVG writers imported (about 0.3 s off each worker's first chart)."""

from .charts import warm_up

warm_up()
