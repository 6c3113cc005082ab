"""The status page (`doit ui`, docs/ui.md): one row per service, job and database, live.

board (the page's state: rows, bounded log tails, actions; pure) < feed (reads the live state
through the deploy targets, the one source of truth) | actions (the buttons: doit tasks under
the run lock, one at a time) | guard (Host, Origin, token) < app (the Starlette routes and the
event stream) < server (uvicorn in a thread; `doit ui` and `doit dev` call `start`).

The families import only this package's constants at load: the server and its ASGI stack are
imported when a page is served, so `doit list` never pays for (or depends on) them.
"""

HOST = "127.0.0.1"
PORT = 10360  # not Tilt's 10350, so both can run
