"""The status page (`doit ui`, docs/ui.md): one row per service, job and database, live.

board (the page's state: rows, bounded log tails, actions; pure) < feed (reads the live state
through the deploy targets, the one source of truth) | actions (the buttons: doit tasks under
the run lock, one at a time) | guard (Host, Origin, token) < app (the Starlette routes and the
event stream) < server (uvicorn in a thread; `doit ui` and `doit dev` call `start`).
"""
