"""The local browser page (``reformsim serve``): a Starlette app with server-rendered HTML.

``levers`` turns the form into scenario files, ``jobs`` runs them as ``reformsim compare``
processes kept by their inputs, ``app`` serves the form, the runs and their files. Every asset is
in this package (``templates/``, ``static/``): the page needs no internet.
"""
