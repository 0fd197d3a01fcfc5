"""gunicorn's settings for WasteEx wherever it is served: ``make run``, the topology, the load and
security benchmarks — ``gunicorn -c deploy/gunicorn.conf.py 'wasteex:create_app()'``.

What the app itself cannot set: gunicorn writes its own ``Server: gunicorn`` header on every
response. Responses should not name the server software that answers them (ASVS 14.3.3; Flask's
development server would even add its version and Python's), so the header names the platform
instead. Behind nginx (``server_tokens off``) nginx's own header replaces it anyway.
"""
import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "WasteEx"

timeout = 60  # a matcher run or an export done inline (without Redis) may take this long
